import type { Choice, Prompter } from '../../../src/cli/survey/prompter.js';

/** A person at a terminal, typing the scripted answers for each prompt in turn. */
export function scriptedPrompter(script: Record<string, (string | string[])[]>) {
  const shown: string[] = [];
  const next = (message: string) => {
    const key = Object.keys(script).find((k) => message.startsWith(k));
    const queue = key ? script[key] : undefined;
    if (!queue?.length) throw new Error(`no scripted answer for "${message}"`);
    return queue.shift()!;
  };
  const prompter: Prompter = {
    async input(o) {
      for (;;) {
        const typed = next(o.message) as string;
        const value = typed === '' && o.default !== undefined ? o.default : typed;
        const ok = o.validate(value);
        if (ok === true) return value;
        shown.push(`> ${ok}`);
      }
    },
    async select(o: { message: string; choices: Choice[]; default?: string }) {
      const v = next(o.message) as string;
      if (!o.choices.some((c) => c.value === v)) throw new Error(`"${v}" is not offered for ${o.message}`);
      return v;
    },
    async checkbox(o) {
      return next(o.message) as string[];
    },
    note: (text) => shown.push(text),
  };
  return { prompter, shown };
}
