// GitHub Actions workflow commands (`::name key=value::message`), formatted as @actions/core formats them, so the
// runner decodes exactly what we meant: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
// The runner reads them from any line of a step's stdout or stderr. Kept pure and free of @actions/core, which is only
// a test's reference: a run of flow must not load it.

export type CommandProperties = Record<string, string | number | undefined>;

/** A message: the runner turns %25, %0D and %0A back into %, CR and LF; nothing else is special after `::`. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value: also `:` and `,`, which would end the value or the property list. */
export function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * `::name key=value,key=value::message`, as @actions/core's issueCommand writes it (without the newline): properties in
 * their insertion order, empty ones (undefined, '', 0) left out, and, as there, a space after the name whenever the
 * object has keys, even if all of them are left out (the runner accepts `::error ::text`).
 */
export function command(name: string, properties: CommandProperties, message: string): string {
  let line = `::${name}`;
  const keys = Object.keys(properties);
  if (keys.length > 0) {
    line += ' ';
    line += keys
      .filter((key) => properties[key])
      .map((key) => `${key}=${escapeProperty(String(properties[key]))}`)
      .join(',');
  }
  return `${line}::${escapeData(message)}`;
}

/** Opens a collapsible section of the log; sections do not nest. */
export function group(title: string): string {
  return command('group', {}, title);
}

export function endGroup(): string {
  return command('endgroup', {}, '');
}

/** Registers a value the runner replaces with *** in every later line of the job's log. */
export function addMask(value: string): string {
  return command('add-mask', {}, value);
}

/** Until the line `::<token>::`, the runner reads no line as a command: what a step prints cannot issue one. */
export function stopCommands(token: string): string {
  return command('stop-commands', {}, token);
}

export function resumeCommands(token: string): string {
  return `::${token}::`;
}

export interface Annotation {
  file?: string | undefined;
  line?: number | undefined;
  col?: number | undefined;
  title?: string | undefined;
}

/**
 * An annotation, shown on the run's page and, with a file and line, beside that line of the diff. The properties
 * are in the order core.error gives them (title, file, line, col), so its output is ours byte for byte.
 */
export function annotation(level: 'error' | 'warning' | 'notice', where: Annotation, message: string): string {
  const { title, file, line, col } = where;
  const given = [title, file, line, col].some((v) => v !== undefined);
  return command(level, given ? { title, file, line, col } : {}, message);
}
