/** Registration of the survey commands: init, job create, job addhook. */
import type { Command } from 'commander';

export function registerSurveyCommands(_program: Command, _job: Command): void {}
