// Models grouped by genre, as the studio's model picker and the Models page show them.
import type { ModelCard } from "./api";

/** What grouping needs of a model: its genre slug (null when its card names none), title and line. */
export type GenreFields = Pick<ModelCard, "genre" | "genre_title" | "genre_line">;

export interface GenreGroup<T extends GenreFields> {
  /** The genre's slug; null for the models whose card names no genre. */
  genre: string | null;
  title: string;
  line: string | null;
  items: T[];
}

/** `items` grouped by genre: the genres by title, the models without one last; each group in the given order. */
export function groupByGenre<T extends GenreFields>(items: T[]): GenreGroup<T>[] {
  const groups = new Map<string | null, GenreGroup<T>>();
  for (const item of items) {
    let group = groups.get(item.genre);
    if (!group) {
      group = { genre: item.genre, title: item.genre_title, line: item.genre_line, items: [] };
      groups.set(item.genre, group);
    }
    group.items.push(item);
  }
  return [...groups.values()].sort(
    (a, b) => Number(a.genre === null) - Number(b.genre === null) || a.title.localeCompare(b.title),
  );
}

/** An element id for a genre's heading (a user's genre tag may hold any character). */
export function genreHeadingId(genre: string | null): string {
  return genre === null ? "genre-none" : `genre-${genre.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}
