/** The lock file's name, beside the config file (a module of its own: importing it loads no schema). */
export const LOCK_FILE_NAME = 'plugins.lock.yaml';
