// Your compositions: listen, open one in the studio, rename, delete, download.
import { useEffect, useState } from "preact/hooks";
import { type Composition, type Status, del, get, patch } from "../api";
import { ImportShare, ShareButton } from "../components/Share";
import { attempt, showNotice } from "../state";

export function Compositions({
  onOpen,
  onReady,
  status,
}: {
  onOpen: (id: string) => void;
  onReady: () => void;
  status: Status | null;
}) {
  const [items, setItems] = useState<Composition[] | null>(null);
  const [editing, setEditing] = useState<{ id: string; title: string } | null>(null);

  async function refresh(): Promise<void> {
    const list = await attempt(() => get<Composition[]>("/api/compositions?limit=500"));
    if (list) setItems(list);
  }

  useEffect(() => void refresh().then(onReady), []);

  async function rename(): Promise<void> {
    if (!editing) return;
    const done = await attempt(() => patch<Composition>(`/api/compositions/${editing.id}`, { title: editing.title }));
    if (done) {
      setEditing(null);
      await refresh();
    }
  }

  async function remove(item: Composition): Promise<void> {
    if (!window.confirm(`Delete "${item.title}"? Its files go too.`)) return;
    const done = await attempt(async () => {
      await del(`/api/compositions/${item.id}`);
      return true;
    });
    if (done) {
      showNotice(`Deleted "${item.title}".`);
      await refresh();
    }
  }

  if (items === null) return <p>Loading your compositions…</p>;
  return (
    <section class="panel" aria-labelledby="compositions-title">
      <h2 id="compositions-title">Compositions</h2>
      <ImportShare onImported={() => void refresh()} />
      {!items.length && <p>No compositions yet: generate one in the studio; every generation is kept here.</p>}
      <table class="list">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Made by</th>
            <th scope="col">Model</th>
            <th scope="col">Tracks</th>
            <th scope="col">Date</th>
            <th scope="col">Listen</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id} class="composition-row" data-id={item.id}>
              <td>
                {editing?.id === item.id ? (
                  <form
                    onSubmit={(e) => {
                      e.preventDefault();
                      void rename();
                    }}
                  >
                    <input
                      aria-label="New name"
                      value={editing.title}
                      maxLength={200}
                      onInput={(e) => setEditing({ id: item.id, title: (e.currentTarget as HTMLInputElement).value })}
                      onKeyDown={(e) => e.key === "Escape" && setEditing(null)}
                    />
                    <button type="submit">Save</button>
                  </form>
                ) : (
                  <span class="title">{item.title}</span>
                )}
              </td>
              <td>
                {item.action}
                {item.action !== item.technique && <small> ({item.technique})</small>}
              </td>
              <td>{item.model}</td>
              <td>{item.summary.tracks.length}</td>
              <td>
                <time dateTime={item.created_at}>{new Date(item.created_at).toLocaleString()}</time>
              </td>
              <td>
                {status?.audio ? (
                  <audio
                    controls
                    preload="none"
                    src={`/api/compositions/${item.id}/audio/ogg`}
                    aria-label={`Listen to ${item.title}`}
                  />
                ) : (
                  <span class="help">{status ? "no audio here" : ""}</span>
                )}
              </td>
              <td class="actions">
                <button type="button" class="primary" onClick={() => onOpen(item.id)}>
                  Open
                </button>
                <button type="button" onClick={() => setEditing({ id: item.id, title: item.title })}>
                  Rename
                </button>
                <a class="button" href={`/api/compositions/${item.id}/midi`} download>
                  MIDI
                </a>
                <ShareButton composition={item} />
                <button type="button" onClick={() => void remove(item)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
