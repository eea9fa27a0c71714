// Models: the shipped ones and yours, grouped by genre, each with its card, its quality bars in plain words, its
// music metrics beside its dataset's, and an example to listen to.
import { useEffect, useState } from "preact/hooks";
import { type ModelCard, del, get } from "../api";
import { ListenButton } from "../components/ListenButton";
import { genreHeadingId, groupByGenre } from "../genres";
import { useModelExample } from "../hooks/useModelExample";
import { attempt, showNotice } from "../state";

interface Comparison {
  name: string;
  model: number;
  dataset: number;
}

function pairs(model: Record<string, unknown>, dataset: Record<string, unknown>): Comparison[] {
  return Object.entries(model)
    .filter(([name, value]) => typeof value === "number" && typeof dataset[name] === "number")
    .map(([name, value]) => ({ name, model: value as number, dataset: dataset[name] as number }));
}

type Figures = Record<string, unknown> | undefined;

/** The metrics a card can compare with its dataset's own values: its held-out evaluation, else (a model you
 * trained and have not evaluated yet) its last evaluation during training beside the training data's. */
function comparisons(card: ModelCard): Comparison[] {
  const heldOut = card.metrics.held_out as { model?: Figures; dataset_values?: Figures } | undefined;
  if (heldOut?.model && heldOut.dataset_values) return pairs(heldOut.model, heldOut.dataset_values);
  const last = card.metrics.final_eval as Figures;
  const reference = card.metrics.reference as Figures;
  return last && reference ? pairs(last, reference) : [];
}

/** One line on the held-out evaluation: its similarity index and how many of its quality bars are met. */
function verdict(card: ModelCard): string | null {
  const heldOut = card.metrics.held_out as { similarity_index?: unknown } | undefined;
  if (!heldOut) return null;
  const parts: string[] = [];
  if (typeof heldOut.similarity_index === "number")
    parts.push(`similarity index ${heldOut.similarity_index.toFixed(2)} (1 would be indistinguishable)`);
  const bars = card.quality_bars;
  if (bars.length) parts.push(`${bars.filter((bar) => bar.met).length} of ${bars.length} quality bars met`);
  return parts.length ? `Tested on music it never saw: ${parts.join(", ")}.` : null;
}

/** Each quality bar as a sentence, met or not: the one that failed is named, not just counted. */
function QualityBars({ card }: { card: ModelCard }) {
  if (!card.quality_bars.length) return null;
  return (
    <ul class="quality-bars" aria-label="Quality bars">
      {card.quality_bars.map((bar) => (
        <li key={bar.name} class={bar.met ? "met" : "missed"} data-bar={bar.name}>
          <span aria-hidden="true">{bar.met ? "✓" : "✗"}</span> {bar.met ? "" : "Not met: "}
          {bar.sentence}
        </li>
      ))}
    </ul>
  );
}

function MetricChart({ items, words }: { items: Comparison[]; words: Record<string, string> }) {
  return (
    <div class="metric-chart" role="img" aria-label="The model's music metrics beside its dataset's">
      {items.map((item) => {
        const scale = Math.max(Math.abs(item.model), Math.abs(item.dataset), 1e-9);
        return (
          <div class="metric" key={item.name}>
            <span class="metric-name" title={words[item.name] ?? ""}>
              {item.name.replace(/_/g, " ")}
            </span>
            <span
              class="bar model"
              style={{ width: `${(60 * Math.abs(item.model)) / scale}%` }}
              title={`model ${item.model.toFixed(3)}`}
            />
            <span class="value">{item.model.toFixed(2)}</span>
            <span
              class="bar data"
              style={{ width: `${(60 * Math.abs(item.dataset)) / scale}%` }}
              title={`dataset ${item.dataset.toFixed(3)}`}
            />
            <span class="value">{item.dataset.toFixed(2)}</span>
          </div>
        );
      })}
      <p class="legend">
        <span class="bar model legend-swatch" /> model <span class="bar data legend-swatch" /> dataset
      </p>
      <details>
        <summary>What these measure</summary>
        <dl class="metric-words">
          {items.map((item) => (
            <div key={item.name}>
              <dt>{item.name.replace(/_/g, " ")}</dt>
              <dd>{words[item.name] ?? ""}</dd>
            </div>
          ))}
        </dl>
      </details>
    </div>
  );
}

export function Models({ onUse, onReady }: { onUse: (technique: string, model: string) => void; onReady: () => void }) {
  const [models, setModels] = useState<ModelCard[] | null>(null);
  const example = useModelExample();

  async function refresh(): Promise<void> {
    const list = await attempt(() => get<ModelCard[]>("/api/models"));
    if (list) setModels(list);
  }

  useEffect(() => void refresh().then(onReady), []);

  async function remove(card: ModelCard): Promise<void> {
    if (!window.confirm(`Delete your model "${card.name}"?`)) return;
    const done = await attempt(async () => {
      await del(`/api/models/${card.name}`);
      return true;
    });
    if (done) {
      showNotice(`Deleted ${card.name}.`);
      await refresh();
    }
  }

  if (models === null) return <p>Loading the models…</p>;
  return (
    <section aria-labelledby="models-title">
      <h2 id="models-title">Models</h2>
      {groupByGenre(models).map((group) => (
        <section
          class="genre"
          key={group.genre ?? ""}
          data-genre={group.genre ?? ""}
          aria-labelledby={genreHeadingId(group.genre)}
        >
          <h3 id={genreHeadingId(group.genre)}>{group.title}</h3>
          {group.line && <p class="genre-line">{group.line}</p>}
          <div class="cards">
            {group.items.map((card) => {
              const items = comparisons(card);
              const steps = card.training.steps;
              return (
                <article class="panel card" key={card.name} data-model={card.name}>
                  <h4>{card.title || card.name}</h4>
                  <p class="meta">
                    {card.shipped ? "shipped" : "yours"} · {card.technique} · {card.architecture} ·{" "}
                    {card.bars > 0 && `${card.bars} bars · `}
                    {(card.size_bytes / 1e6).toFixed(1)} MB
                  </p>
                  <p>{card.description}</p>
                  <dl>
                    <dt>Dataset</dt>
                    <dd>{card.dataset}</dd>
                    {card.tracks.length > 0 && (
                      <>
                        <dt>Tracks</dt>
                        <dd>{card.tracks.map((track) => track.name).join(", ")}</dd>
                      </>
                    )}
                    {typeof steps === "number" && (
                      <>
                        <dt>Trained</dt>
                        <dd>{steps} steps</dd>
                      </>
                    )}
                    <dt>Licence</dt>
                    <dd>{card.licence}</dd>
                  </dl>
                  {verdict(card) && <p class="verdict">{verdict(card)}</p>}
                  <QualityBars card={card} />
                  {items.length > 0 && <MetricChart items={items} words={card.metric_words} />}
                  <div class="row">
                    <ListenButton example={example} name={card.name} />
                    <button type="button" class="primary" onClick={() => onUse(card.technique, card.name)}>
                      Use in studio
                    </button>
                    {!card.shipped && (
                      <button type="button" onClick={() => void remove(card)}>
                        Delete
                      </button>
                    )}
                  </div>
                </article>
              );
            })}
          </div>
        </section>
      ))}
    </section>
  );
}
