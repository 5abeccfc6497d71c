/**
 * `optimus plugin init`'s work: the files of a new plugin project (the layout every authoring
 * command reads, see project.ts) and writing them all or none.
 *
 *   yaml kind    plugin.yaml, Dockerfile, sample/job.yaml, sample/assets/query.sql,
 *                tests/sample.yaml, README.md, .gitignore
 *   binary kind  the same without plugin.yaml, plus package.json, tsconfig.json and src/main.ts
 *
 * All or none: into a folder that does not exist, the files are written to a temp folder beside it
 * that is then renamed into place. Into an existing folder (empty, or with --force), everything is
 * checked first, the files are staged in a temp folder inside it and renamed one by one; a failure
 * puts back what was there.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { stringify } from 'yaml';
import { OptimusError } from '../core/errors.js';
import { FILE_PART_MAX, filePartProblem } from './pack.js';
import { makeFolders, type PluginKind, shown } from './project.js';
import {
  dockerfile,
  gitignore,
  type ProjectModel,
  packageJson,
  readme,
  SAMPLE_QUERY,
  sampleJob,
  sampleTests,
  tsconfigJson,
} from './templates/project-files.js';
import { mainTs, pluginYaml } from './templates/spec.js';

export const SCAFFOLD_KINDS: readonly PluginKind[] = ['yaml', 'binary'];
/** `--mod` values, as the flag spells them. */
export const SCAFFOLD_MODS = ['dependency-resolver'] as const;
export type ScaffoldMod = (typeof SCAFFOLD_MODS)[number];

export interface ScaffoldOptions {
  name: string;
  kind: PluginKind;
  mods: readonly ScaffoldMod[];
}

export interface ScaffoldFile {
  /** Relative to the plugin folder, with `/`. */
  path: string;
  content: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * The plugin name rule: the spec's characters (src/spec/plugin-schema.ts, no "+") and what `plugin
 * pack` needs to make a file name of it (no "..", at most FILE_PART_MAX characters), so a project
 * init writes can always be packed.
 */
export function checkPluginName(name: string | undefined): string {
  if (!name)
    throw new OptimusError('PLUGIN_NAME_MISSING', 'name the plugin: optimus plugin init <name>', {
      category: 'usage',
      hint: 'e.g. optimus plugin init warehouse-load',
    });
  if (!NAME.test(name))
    throw new OptimusError(
      'PLUGIN_NAME_INVALID',
      `plugin name ${JSON.stringify(name)} may contain only letters, digits, "_", "-" and "." and must start with a letter or digit`,
      { category: 'usage', hint: `e.g. ${suggestName(name)}` },
    );
  const why = filePartProblem(name);
  if (why)
    throw new OptimusError(
      'PLUGIN_NAME_INVALID',
      `plugin name ${JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name)} ${why}: it names the artifact plugin pack writes`,
      { category: 'usage', hint: `e.g. ${suggestName(name)}` },
    );
  return name;
}

/**
 * A binary plugin runs as the file dist/<name> (installed: <name>), which node reads as ESM; node
 * refuses to load an ESM file whose extension it does not know, and a "." in the name makes one.
 */
export function checkNameForKind(name: string, kind: PluginKind): void {
  if (kind === 'binary' && name.includes('.'))
    throw new OptimusError(
      'PLUGIN_NAME_INVALID',
      `a binary plugin's name cannot contain ".": node would not run its executable dist/${name} (it reads "${name.slice(name.lastIndexOf('.'))}" as an unknown file extension)`,
      { category: 'usage', hint: `e.g. ${name.replaceAll('.', '-')}, or --kind yaml` },
    );
}

function suggestName(name: string): string {
  const fixed = name
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, FILE_PART_MAX)
    .replace(/[^A-Za-z0-9]+$/, '');
  return fixed || 'my-plugin';
}

/** `--kind`: yaml (default) or binary. */
export function parseKind(value: unknown): PluginKind {
  if (value === undefined) return 'yaml';
  const kind = String(value);
  if ((SCAFFOLD_KINDS as readonly string[]).includes(kind)) return kind as PluginKind;
  throw new OptimusError('PLUGIN_KIND_UNKNOWN', `--kind ${JSON.stringify(kind)} is not a plugin kind`, {
    category: 'usage',
    hint: `accepted: ${SCAFFOLD_KINDS.join(', ')} (yaml: a spec file; binary: TypeScript on the plugin SDK)`,
  });
}

/** `--mod`, once or repeated; `dependency_resolver` (the spec's spelling) is accepted too. */
export function parseMods(value: unknown): ScaffoldMod[] {
  if (value === undefined || value === false) return [];
  const given = (Array.isArray(value) ? value : [value]).map(String);
  const mods: ScaffoldMod[] = [];
  for (const raw of given) {
    const mod = raw.replaceAll('_', '-');
    if (!(SCAFFOLD_MODS as readonly string[]).includes(mod))
      throw new OptimusError(
        'PLUGIN_MOD_UNKNOWN',
        `--mod ${JSON.stringify(raw)} is not a mod a plugin can have`,
        {
          category: 'usage',
          hint: `accepted: ${SCAFFOLD_MODS.join(', ')} (where a job writes and what it reads)`,
        },
      );
    if (!mods.includes(mod as ScaffoldMod)) mods.push(mod as ScaffoldMod);
  }
  return mods;
}

/** A YAML scalar that reads back as this string (a plugin named `true` or `1.0` must stay a string). */
function yamlString(s: string): string {
  return stringify(s, { lineWidth: 0 }).trimEnd();
}

/** Every file of the project, in the order they are listed to the user. */
export function scaffoldFiles(o: ScaffoldOptions): ScaffoldFile[] {
  const m: ProjectModel = { name: o.name, kind: o.kind, resolver: o.mods.includes('dependency-resolver') };
  const spec: ScaffoldFile[] =
    m.kind === 'yaml'
      ? [{ path: 'plugin.yaml', content: pluginYaml(m, yamlString(m.name)) }]
      : [
          { path: 'package.json', content: packageJson(m) },
          { path: 'tsconfig.json', content: tsconfigJson() },
          { path: 'src/main.ts', content: mainTs(m) },
        ];
  return [
    ...spec,
    { path: 'Dockerfile', content: dockerfile(m) },
    { path: 'sample/job.yaml', content: sampleJob(m, yamlString) },
    { path: 'sample/assets/query.sql', content: SAMPLE_QUERY },
    { path: 'tests/sample.yaml', content: sampleTests(m) },
    { path: 'README.md', content: readme(m) },
    { path: '.gitignore', content: gitignore(m) },
  ];
}

export interface WriteResult {
  /** Absolute plugin folder. */
  dir: string;
  /** Every file written (relative paths, `/`). */
  files: string[];
  /** Those that replaced a file that was there (--force). */
  overwritten: string[];
  /** Files the scaffold kept that change what the folder is (another kind's spec left behind). */
  warnings: string[];
}

/**
 * What lies at `path`: absent, a folder, or something else. `follow`: a symlink to a folder is a
 * folder (files may be written through it); without, a symlink is replaced like a file.
 */
function kindAt(path: string, follow = false): 'absent' | 'dir' | 'other' {
  try {
    return (follow ? statSync(path) : lstatSync(path)).isDirectory() ? 'dir' : 'other';
  } catch {
    return 'absent';
  }
}

/** Writes `files` into `dir`: every one of them, or (on any failure) none. */
export function writeScaffold(
  target: string,
  files: readonly ScaffoldFile[],
  opts: { force?: boolean } = {},
): WriteResult {
  const dir = resolve(target);
  const state = kindAt(dir, true);
  refuseDanglingLink(dir);
  if (state === 'other')
    throw new OptimusError('PLUGIN_DIR_NOT_FOLDER', `${shown(dir)} exists and is not a folder`, {
      category: 'conflict',
      hint: 'pass --dir <folder> for the new plugin project',
    });
  if (state === 'absent') {
    writeNewFolder(dir, files);
    return { dir, files: files.map((f) => f.path), overwritten: [], warnings: [] };
  }
  const entries = readdirSync(dir);
  const existing = files
    .filter((f) => kindAt(join(dir, ...f.path.split('/'))) !== 'absent')
    .map((f) => f.path);
  if (entries.length && !opts.force) {
    throw new OptimusError(
      'PLUGIN_DIR_NOT_EMPTY',
      `${shown(dir)} is not empty (${describeEntries(entries)})`,
      {
        category: 'conflict',
        hint: existing.length
          ? `pass --force to write the scaffold's files into it: ${existing.join(', ')} would be overwritten, other files are kept; or choose another --dir`
          : "pass --force to write the scaffold's files into it (no file there is overwritten, other files are kept), or choose another --dir",
      },
    );
  }
  checkPaths(dir, files);
  writeIntoFolder(dir, files);
  return { dir, files: files.map((f) => f.path), overwritten: existing, warnings: leftovers(dir, files) };
}

/** A symbolic link to nothing: neither a folder to write into nor a name free to take. */
function refuseDanglingLink(path: string): void {
  if (kindAt(path, true) !== 'absent' || kindAt(path) === 'absent') return;
  let to = '';
  try {
    to = readlinkSync(path);
  } catch {
    // unreadable link: named without its target
  }
  throw new OptimusError(
    'PLUGIN_DIR_NOT_FOLDER',
    `${shown(path)} is a symbolic link${to ? ` to ${to}` : ''}, which does not exist`,
    {
      category: 'conflict',
      hint: 'make the folder it points to, remove the link, or pass --dir <another folder>; nothing was written',
    },
  );
}

function describeEntries(entries: string[]): string {
  const sorted = [...entries].sort();
  const head = sorted.slice(0, 3).join(', ');
  return sorted.length > 3 ? `${head} and ${sorted.length - 3} more` : head;
}

/**
 * With --force: each file's folders must be folders (or absent) inside the project folder (a
 * symlinked sample/ must not carry the write elsewhere), and the file itself not a folder.
 */
function checkPaths(dir: string, files: readonly ScaffoldFile[]): void {
  const root = realpathSync(dir);
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const path = join(dir, ...parts.slice(0, i));
      const last = i === parts.length;
      if (!last) refuseDanglingLink(path);
      const kind = kindAt(path, !last);
      if (kind === 'absent') break;
      if (!last && kind === 'dir') refuseOutside(root, path, dir);
      if (last ? kind === 'dir' : kind !== 'dir')
        throw new OptimusError(
          'PLUGIN_DIR_CONFLICT',
          `${shown(path)} is ${last ? 'a folder' : 'not a folder'}, and the scaffold writes ${shown(join(dir, f.path))}`,
          {
            category: 'conflict',
            hint: `move ${shown(path)} away, or choose another --dir; nothing was written`,
          },
        );
    }
  }
}

/** A folder of the scaffold that resolves (through a symbolic link) outside the project folder. */
function refuseOutside(root: string, path: string, dir: string): void {
  const real = realpathSync(path);
  if (real === root || real.startsWith(`${root}${sep}`)) return;
  throw new OptimusError(
    'PLUGIN_DIR_CONFLICT',
    `${shown(path)} is a symbolic link to ${shown(real)}, outside ${shown(dir)}: the scaffold's files would be written there`,
    {
      category: 'conflict',
      hint: `replace the link with a folder (or remove it), or choose another --dir; nothing was written`,
    },
  );
}

/** Another kind's spec that stays in the folder decides what the authoring commands see. */
function leftovers(dir: string, files: readonly ScaffoldFile[]): string[] {
  const writes = new Set(files.map((f) => f.path));
  const warnings: string[] = [];
  if (!writes.has('plugin.yaml') && existsSync(join(dir, 'plugin.yaml')))
    warnings.push(
      'plugin.yaml from before is kept, and the other commands read a folder with plugin.yaml as a yaml plugin: delete it',
    );
  if (!writes.has('src/main.ts') && existsSync(join(dir, 'src', 'main.ts')))
    warnings.push(
      'src/main.ts from before is kept; the spec is now plugin.yaml: delete src/ and package.json',
    );
  return warnings;
}

/** Beside or inside the target; the base is cut so a long folder name still leaves a valid temp name. */
const tempName = (base: string) => `.${base.slice(0, 64)}.optimus-init-${randomBytes(4).toString('hex')}`;

function writeTree(root: string, files: readonly ScaffoldFile[]): void {
  for (const f of files) {
    const path = join(root, ...f.path.split('/'));
    makeFolders(dirname(path));
    writeFileSync(path, f.content, { flag: 'wx' });
  }
}

function ioError(dir: string, e: unknown): OptimusError {
  return new OptimusError(
    'PLUGIN_INIT_WRITE_FAILED',
    `cannot write the plugin project ${shown(dir)}: ${(e as Error).message}`,
    { category: 'io', hint: `${writeHint(e)}; nothing was written`, cause: e },
  );
}

/** What to do about a failed write, by its cause: "disk full" only when the disk is full. */
function writeHint(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk (or your quota) is full: free some space';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'the folder is not writable: choose a --dir you can write to';
    case 'ENAMETOOLONG':
      return 'the path is too long: choose a shorter --dir';
    case 'ENOENT':
    case 'ENOTDIR':
      return 'folders cannot be made there (a system folder such as /proc, or a path that changed meanwhile): choose another --dir';
    default:
      return 'check the folder is writable and the disk is not full';
  }
}

/** A new folder: built complete beside where it goes, then renamed there in one step. */
function writeNewFolder(dir: string, files: readonly ScaffoldFile[]): void {
  const parent = dirname(dir);
  // The nearest existing ancestor must be a folder; a link to nothing on the way is named.
  let d = parent;
  for (; kindAt(d, true) === 'absent' && dirname(d) !== d; d = dirname(d)) refuseDanglingLink(d);
  if (kindAt(d, true) === 'other')
    throw new OptimusError(
      'PLUGIN_DIR_NOT_FOLDER',
      `${shown(d)} is not a folder, so ${shown(dir)} cannot be made`,
      {
        category: 'conflict',
        hint: 'pass --dir <folder> for the new plugin project',
      },
    );
  const temp = join(parent, tempName(basename(dir)));
  // The folders made for the project, so a failure removes them too.
  const made: string[] = [];
  try {
    makeFolders(parent, made);
    mkdirSync(temp);
    writeTree(temp, files);
    renameSync(temp, dir);
  } catch (e) {
    try {
      rmSync(made[0] ?? temp, { recursive: true, force: true });
    } catch {
      // nothing was made, or it cannot be removed either: the write error is the one to report
    }
    throw ioError(dir, e);
  }
}

interface Move {
  path: string;
  backup?: string;
}

/**
 * An existing folder (the user's: perhaps the shell's working directory, so never replaced):
 * staged inside it, then each file renamed into place; what it replaced waits in the stage until
 * every rename succeeded.
 */
function writeIntoFolder(dir: string, files: readonly ScaffoldFile[]): void {
  const stage = join(dir, tempName('stage'));
  const madeDirs: string[] = [];
  const moves: Move[] = [];
  try {
    mkdirSync(stage);
    mkdirSync(join(stage, 'new'));
    mkdirSync(join(stage, 'old'));
    writeTree(join(stage, 'new'), files);
    files.forEach((f, i) => {
      const path = join(dir, ...f.path.split('/'));
      makeFolders(dirname(path), madeDirs);
      const move: Move = { path };
      if (kindAt(path) !== 'absent') {
        move.backup = join(stage, 'old', String(i));
        renameSync(path, move.backup);
      }
      moves.push(move);
      renameSync(join(stage, 'new', ...f.path.split('/')), path);
    });
  } catch (e) {
    for (const m of moves.reverse()) {
      rmSync(m.path, { force: true });
      if (m.backup && existsSync(m.backup)) renameSync(m.backup, m.path);
    }
    // Deepest first: a folder made for a file goes once it is empty again.
    for (const d of madeDirs.sort((a, b) => b.split(sep).length - a.split(sep).length)) {
      try {
        rmdirSync(d);
      } catch {
        // not empty or already gone: leave it
      }
    }
    rmSync(stage, { recursive: true, force: true });
    throw ioError(dir, e);
  }
  rmSync(stage, { recursive: true, force: true });
}
