// Web MIDI input: a USB keyboard's note-on and note-off messages, as DeepComposer's keyboard sent them.

export interface MidiHandlers {
  noteOn: (pitch: number, velocity: number) => void;
  noteOff: (pitch: number) => void;
}

const NOTE_OFF = 0x80;
const NOTE_ON = 0x90;

/** Listen to every MIDI input; returns the inputs' names. Throws a sentence when the browser has no Web MIDI. */
export async function connectMidi(handlers: MidiHandlers): Promise<string[]> {
  if (!("requestMIDIAccess" in navigator)) {
    throw new Error("this browser has no Web MIDI, use Chrome, Edge or Opera to play from a MIDI keyboard");
  }
  const access = await navigator.requestMIDIAccess();
  const names: string[] = [];
  access.inputs.forEach((input) => {
    names.push(input.name ?? "MIDI input");
    input.onmidimessage = (message: MIDIMessageEvent) => {
      const data = message.data;
      if (!data || data.length < 3) return;
      const kind = data[0] & 0xf0;
      if (kind === NOTE_ON && data[2] > 0) handlers.noteOn(data[1], data[2]);
      else if (kind === NOTE_OFF || (kind === NOTE_ON && data[2] === 0)) handlers.noteOff(data[1]);
    };
  });
  return names;
}
