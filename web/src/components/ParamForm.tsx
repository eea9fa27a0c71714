// Controls built from a technique's or an architecture's declared parameters (their JSON Schema): a number
// field with its range, a menu for a choice, a checkbox for a switch; each with its help sentence.
import type { JsonSchemaProperty, ParamValues, ParamsSchema } from "../api";

export function defaults(schema: ParamsSchema): ParamValues {
  const values: ParamValues = {};
  for (const [name, property] of Object.entries(schema.properties)) {
    if (property.default !== undefined) values[name] = property.default;
  }
  return values;
}

function label(name: string, property: JsonSchemaProperty): string {
  const words = name.replace(/_/g, " ");
  const text = words.charAt(0).toUpperCase() + words.slice(1);
  return property["x-unit"] ? `${text} (${property["x-unit"]})` : text;
}

function Field(props: {
  id: string;
  name: string;
  property: JsonSchemaProperty;
  value: number | string | boolean | undefined;
  onChange: (value: number | string | boolean) => void;
}) {
  const { id, name, property, value, onChange } = props;
  const helpId = `${id}-help`;
  let control;
  if (property.enum) {
    control = (
      <select
        id={id}
        name={name}
        aria-describedby={helpId}
        value={String(value)}
        onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {property.enum.map((option) => (
          <option key={option} value={String(option)}>
            {String(option)}
          </option>
        ))}
      </select>
    );
  } else if (property.type === "boolean") {
    control = (
      <input
        id={id}
        name={name}
        type="checkbox"
        aria-describedby={helpId}
        checked={Boolean(value)}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
      />
    );
  } else if (property.type === "integer" || property.type === "number") {
    const step = property.type === "integer" ? 1 : "any";
    control = (
      <input
        id={id}
        name={name}
        type="number"
        min={property.minimum}
        max={property.maximum}
        step={step}
        aria-describedby={helpId}
        value={value === undefined ? "" : String(value)}
        onInput={(e) => {
          const text = (e.currentTarget as HTMLInputElement).value;
          const number = property.type === "integer" ? parseInt(text, 10) : parseFloat(text);
          if (!Number.isNaN(number)) onChange(number);
        }}
      />
    );
  } else {
    control = (
      <input
        id={id}
        name={name}
        type="text"
        aria-describedby={helpId}
        value={String(value ?? "")}
        onInput={(e) => onChange((e.currentTarget as HTMLInputElement).value)}
      />
    );
  }
  const range =
    property.minimum !== undefined && property.maximum !== undefined
      ? ` (${property.minimum} to ${property.maximum})`
      : "";
  return (
    <div class="field">
      <label for={id}>{label(name, property)}</label>
      {control}
      <small id={helpId}>
        {property.description}
        {range}
      </small>
    </div>
  );
}

export function ParamForm(props: {
  prefix: string;
  schema: ParamsSchema;
  values: ParamValues;
  onChange: (values: ParamValues) => void;
}) {
  const { prefix, schema, values, onChange } = props;
  // A technique with modes declares which fields belong to which mode ("x-modes"); a field without it
  // belongs to every mode, and the form shows only the current mode's own.
  const mode = values.mode ?? schema.properties.mode?.default;
  const shown = Object.entries(schema.properties).filter(([, property]) => {
    const modes = (property as JsonSchemaProperty & { "x-modes"?: string[] })["x-modes"];
    return modes === undefined || modes.includes(String(mode));
  });
  return (
    <div class="params">
      {shown.map(([name, property]) => (
        <Field
          key={name}
          id={`${prefix}-${name}`}
          name={name}
          property={property}
          value={values[name]}
          onChange={(value) => onChange({ ...values, [name]: value })}
        />
      ))}
    </div>
  );
}
