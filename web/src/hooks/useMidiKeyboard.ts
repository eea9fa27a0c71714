// A USB MIDI keyboard played into the studio: the inputs listened to, once the user asks for them.
import { useState } from "preact/hooks";
import { type MidiHandlers, connectMidi } from "../midi";
import { UserError, showError, showNotice } from "../state";

export function useMidiKeyboard(handlers: MidiHandlers) {
  const [inputs, setInputs] = useState<string[] | null>(null);

  async function enable(): Promise<void> {
    try {
      const names = await connectMidi(handlers);
      setInputs(names);
      showNotice(
        names.length
          ? `Listening to ${names.join(", ")}.`
          : "No MIDI keyboard is connected; plug one in and press the button again.",
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      showError(new UserError(`The MIDI keyboard cannot be used: ${reason}.`));
    }
  }

  return { inputs, enable };
}

export type MidiKeyboard = ReturnType<typeof useMidiKeyboard>;
