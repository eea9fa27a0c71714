// The page-wide message line: the one place errors and notices are shown, read by screen readers too.
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "./api";

export interface Message {
  text: string;
  kind: "error" | "notice";
}

type Listener = (message: Message | null) => void;
const listeners = new Set<Listener>();
let current: Message | null = null;

function publish(message: Message | null): void {
  current = message;
  listeners.forEach((listener) => listener(message));
}

/** Something the user can fix, said in one sentence (as the server's errors are). */
export class UserError extends Error {}

/** Show what went wrong: the sentence of an `ApiError` or a `UserError`, or a sentence for anything else. */
export function showError(error: unknown): void {
  const text =
    error instanceof ApiError || error instanceof UserError
      ? error.message
      : `Something went wrong in the page: ${error instanceof Error ? error.message : String(error)}.`;
  publish({ text, kind: "error" });
}

export function showNotice(text: string): void {
  publish({ text, kind: "notice" });
}

export function clearMessage(): void {
  publish(null);
}

export function useMessage(): Message | null {
  const [message, setMessage] = useState<Message | null>(current);
  useEffect(() => {
    listeners.add(setMessage);
    return () => void listeners.delete(setMessage);
  }, []);
  return message;
}

/** Run `work`, showing its error if it fails; resolves to undefined then. */
export async function attempt<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    showError(error);
    return undefined;
  }
}
