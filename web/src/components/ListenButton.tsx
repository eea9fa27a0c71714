// The button that plays a model's example, and stops it (the Models page's cards and the studio's model picker).
import type { ModelExample } from "../hooks/useModelExample";

export function ListenButton({ example, name }: { example: ModelExample; name: string }) {
  const { listening } = example;
  const mine = listening?.name === name;
  return (
    <button
      type="button"
      onClick={() => void example.listen(name)}
      aria-pressed={mine}
      disabled={!name || (listening?.state === "loading" && !mine)}
    >
      {!mine ? "Listen to an example" : listening.state === "loading" ? "Making the example…" : "Stop the example"}
    </button>
  );
}
