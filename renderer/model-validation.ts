/**
 * What the window checks before sending aliases, so the common mistakes are named next to the field.
 * The server has the last word (is the target a known alias or a Bedrock id / profile / ARN?).
 */
export interface AliasRow {
  alias: string;
  target: string;
}

export interface AliasProblem {
  /** Index into the rows given. */
  row: number;
  field: 'alias' | 'target';
  message: string;
}

export function aliasProblems(rows: readonly AliasRow[]): AliasProblem[] {
  const problems: AliasProblem[] = [];
  const seen = new Map<string, number>();
  rows.forEach((row, index) => {
    if (!row.alias) problems.push({ row: index, field: 'alias', message: `Row ${index + 1}: the alias is empty.` });
    else if (/\s/.test(row.alias)) problems.push({ row: index, field: 'alias', message: `"${row.alias}": an alias cannot contain spaces.` });
    else if (row.alias === 'default') problems.push({ row: index, field: 'alias', message: '"default" is the default model: choose it above instead.' });
    else if (seen.has(row.alias)) problems.push({ row: index, field: 'alias', message: `"${row.alias}" is listed twice.` });
    seen.set(row.alias, index);
    if (!row.target) problems.push({ row: index, field: 'target', message: `"${row.alias || `Row ${index + 1}`}": choose the Bedrock model it calls.` });
    else if (/\s/.test(row.target)) problems.push({ row: index, field: 'target', message: `"${row.target}": a model id cannot contain spaces.` });
    else if (row.target === row.alias) problems.push({ row: index, field: 'target', message: `"${row.alias}" cannot point to itself.` });
  });
  return problems;
}
