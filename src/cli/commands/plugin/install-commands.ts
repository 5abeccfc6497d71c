/** Registration of the plugin installer commands (install, list, diff, clean, available). */
import type { Command } from 'commander';

export function registerInstallCommands(_plugin: Command): void {}
