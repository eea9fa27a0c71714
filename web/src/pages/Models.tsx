// Models: the shipped ones and yours, each with its card and its music metrics beside its dataset's.
import { useEffect, useState } from "preact/hooks";
import { type ModelCard, del, get } from "../api";
import { attempt, showNotice } from "../state";

interface Comparison {
  name: string;
  model: number;
  dataset: number;
}

/** The metrics a card can compare with its dataset's own values (held out from training). */
function comparisons(card: ModelCard): Comparison[] {
  const heldOut = card.metrics.held_out as
    { model?: Record<string, number>; dataset_values?: Record<string, number> } | undefined;
  if (!heldOut?.model || !heldOut.dataset_values) return [];
  const dataset = heldOut.dataset_values;
  return Object.entries(heldOut.model)
    .filter(([name, value]) => typeof value === "number" && typeof dataset[name] === "number")
    .map(([name, value]) => ({ name, model: value, dataset: dataset[name] }));
}

function MetricChart({ items }: { items: Comparison[] }) {
  return (
    <div class="metric-chart" role="img" aria-label="The model's music metrics beside its dataset's">
      {items.map((item) => {
        const scale = Math.max(Math.abs(item.model), Math.abs(item.dataset), 1e-9);
        return (
          <div class="metric" key={item.name}>
            <span class="metric-name">{item.name.replace(/_/g, " ")}</span>
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
    </div>
  );
}

export function Models({ onUse, onReady }: { onUse: (technique: string, model: string) => void; onReady: () => void }) {
  const [models, setModels] = useState<ModelCard[] | null>(null);

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
      <div class="cards">
        {models.map((card) => {
          const items = comparisons(card);
          const steps = card.training.steps;
          return (
            <article class="panel card" key={card.name} data-model={card.name}>
              <h3>{card.title || card.name}</h3>
              <p class="meta">
                {card.shipped ? "shipped" : "yours"} · {card.technique} · {card.architecture} · {card.bars} bars ·{" "}
                {(card.size_bytes / 1e6).toFixed(1)} MB
              </p>
              <p>{card.description}</p>
              <dl>
                <dt>Dataset</dt>
                <dd>{card.dataset}</dd>
                <dt>Tracks</dt>
                <dd>{card.tracks.map((track) => track.name).join(", ")}</dd>
                {typeof steps === "number" && (
                  <>
                    <dt>Trained</dt>
                    <dd>{steps} steps</dd>
                  </>
                )}
                <dt>Licence</dt>
                <dd>{card.licence}</dd>
              </dl>
              {items.length > 0 && <MetricChart items={items} />}
              <div class="row">
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
  );
}
