import type { InputField } from './api.js';

// A form's fields for a workflow's declared inputs (a select for an enum, a password field for a secret), and the
// values they hold, typed as the inputs declare.

/** One labelled field per input, holding `values` where given (a masked secret is left empty), else the default. */
export function InputFields({ inputs, values = {} }: { inputs: readonly InputField[]; values?: Record<string, unknown> }) {
  return (
    <>
      {inputs.map((input) => {
        const given = input.secret ? undefined : values[input.name];
        return <InputControl key={input.name} input={input} value={given ?? input.default} />;
      })}
    </>
  );
}

/** The form's values by input name; a field left empty is left out (its default applies). */
export function formInputs(inputs: readonly InputField[], form: HTMLFormElement): Record<string, unknown> {
  const data = new FormData(form);
  const values: Record<string, unknown> = {};
  for (const input of inputs) {
    const value = valueOf(input, data.get(input.name));
    if (value !== undefined) values[input.name] = value;
  }
  return values;
}

function InputControl({ input, value }: { input: InputField; value: unknown }) {
  const id = `input-${input.name}`;
  const initial = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const control = input.enum ? (
    <select id={id} name={input.name} required={input.required}>
      {input.enum.map((v) => (
        <option key={String(v)} value={String(v)} selected={String(v) === initial}>
          {String(v)}
        </option>
      ))}
    </select>
  ) : input.type === 'boolean' ? (
    <input id={id} name={input.name} type="checkbox" checked={value === true} />
  ) : input.secret ? (
    <input id={id} name={input.name} type="password" required={input.required} value={initial} />
  ) : input.type === 'number' || input.type === 'integer' ? (
    <input id={id} name={input.name} type="number" step={input.type === 'number' ? 'any' : '1'} required={input.required} value={initial} />
  ) : (
    <input id={id} name={input.name} type="text" required={input.required} value={initial} />
  );
  return (
    <div class="field">
      <label for={id}>{input.name}</label> {control}
      {input.description ? <small>{input.description}</small> : null}
    </div>
  );
}

function valueOf(input: InputField, raw: FormDataEntryValue | null): unknown {
  if (input.type === 'boolean') return raw !== null;
  if (raw === null || raw === '') return undefined;
  const text = String(raw);
  if (input.type === 'number' || input.type === 'integer') return Number(text);
  if (input.type === 'object' || input.type === 'array') {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
