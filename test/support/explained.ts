/**
 * Runs `assertions`; when one fails, `detail()` is added to its message. For what a spec measured
 * or collected along the way (figures, the failures of a whole run): a green run keeps it to
 * itself, a red one shows it with the assertion that failed.
 */
export function explained<T>(detail: () => string, assertions: () => T): T {
  try {
    return assertions();
  } catch (error) {
    if (error instanceof Error) error.message += `\n\n${detail()}`;
    throw error;
  }
}
