import { createInterface } from 'node:readline';

/**
 * Asks a yes/no question on the terminal, defaulting to no (knack's `prompt_y_n`). Only call it when
 * stdin is a terminal: without one there is nobody to answer, and `az` refuses rather than wait
 * (azure-cli `user_confirmation`: "Unable to prompt for confirmation as no tty available. Use --yes.").
 */
export async function confirm(
  question: string,
  streams: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream } = {},
): Promise<boolean> {
  const rl = createInterface({ input: streams.input ?? process.stdin, output: streams.output ?? process.stderr, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('close', () => resolve(''));
      rl.question(`${question} (y/n): `, resolve);
    });
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export const NO_TTY_FOR_CONFIRMATION = 'Unable to prompt for confirmation as no tty available. Use --yes.';
