/**
 * One word of a POSIX shell command line, quoted only when it needs to be: a remedy such as
 * `az vmss update-instances ... --instance-ids '*'` is copied into a shell, where an unquoted `*`
 * expands to the files of the current directory, and a resource group name may hold `(`, `)` or
 * spaces (resource-group names allow parentheses; resource names are the creator's choice).
 * Single quotes keep every character literal; a single quote inside is closed, escaped and reopened.
 */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_.,:/=@%+-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line of literal words (a program, its arguments), each quoted as shellWord does. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellWord).join(' ');
}
