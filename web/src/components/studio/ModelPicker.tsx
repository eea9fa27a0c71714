// Choosing a technique's model by genre: a menu grouped under the genres' titles, a button to hear the model's
// example, and the chosen model's genre in one sentence.
import type { ModelCard } from "../../api";
import { type GenreFields, groupByGenre } from "../../genres";
import type { ModelExample } from "../../hooks/useModelExample";
import { ListenButton } from "../ListenButton";

const NO_GENRE: GenreFields = { genre: null, genre_title: "Other", genre_line: null };

/** The id of the chosen model's genre line, which describes the menu. */
const GENRE_LINE_ID = "model-genre-line";

function genreOf(cards: ModelCard[], name: string): GenreFields {
  return cards.find((card) => card.name === name) ?? NO_GENRE;
}

export function ModelPicker({
  names,
  cards,
  value,
  onChange,
  example,
}: {
  /** The technique's models, in the server's order. */
  names: string[];
  /** Every model's card (a name without one, say a model trained since they were read, goes under "Other"). */
  cards: ModelCard[];
  value: string;
  onChange: (name: string) => void;
  example: ModelExample;
}) {
  const groups = groupByGenre(names.map((name) => ({ ...genreOf(cards, name), name })));
  return (
    <>
      <label>
        Model{" "}
        <select
          aria-label="Model"
          aria-describedby={GENRE_LINE_ID}
          value={value}
          onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
        >
          {groups.map((group) => (
            <optgroup key={group.genre ?? ""} label={group.title}>
              {group.items.map((item) => (
                <option key={item.name} value={item.name}>
                  {item.name}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </label>
      <ListenButton example={example} name={value} />
    </>
  );
}

/** The chosen model's genre: its title and the sentence saying what that music sounds like. */
export function ModelGenreLine({ cards, value }: { cards: ModelCard[]; value: string }) {
  const genre = genreOf(cards, value);
  return (
    <p class="help genre-line" id={GENRE_LINE_ID} aria-live="polite">
      {value && genre.genre !== null && (
        <>
          <strong>{genre.genre_title}</strong>
          {genre.genre_line && `: ${genre.genre_line}`}
        </>
      )}
    </p>
  );
}
