/** A request to the app the user can fix (unknown model, bad setting, no sign-in for this source): 400/409 on the control API. */
export class AppInputError extends Error {
  override readonly name = 'AppInputError';
  /** The settings field or request field at fault, when there is one. */
  readonly field: string | null;
  /** 'invalid' (400) or 'conflict' (409: not possible in the current state). */
  readonly kind: 'invalid' | 'conflict';

  constructor(message: string, options: { field?: string; kind?: 'invalid' | 'conflict' } = {}) {
    super(message);
    this.field = options.field ?? null;
    this.kind = options.kind ?? 'invalid';
  }
}
