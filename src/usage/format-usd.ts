/** Money as the window and `bedrock-bridge usage` show it. Pure. */

const dollars = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
/** Two significant digits, never in exponent form: 0.0000184 -> "0.000018". */
const significant = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 2 });

/**
 * US dollars. Under a dollar, two significant digits ("$0.000018", "$0.0018", "$0.50"), so a tiny
 * non-zero cost is never shown as zero; under a millionth, "<$0.000001".
 */
export function formatUsd(value: number): string {
  if (value === 0) return '$0';
  if (value < 0.000001) return '<$0.000001';
  if (value < 1) return `$${significant.format(value).replace(/\.\d$/, '$&0')}`;
  if (value < 100) return `$${value.toFixed(2)}`;
  return `$${dollars.format(Math.round(value))}`;
}
