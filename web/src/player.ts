// Playback with Tone.js: one synthesizer per track (mute, solo, volume, instrument), a playhead, a loop, the
// live keyboard's sound, and the metronome and count-in of a recording. Tone.js is loaded on first use (or when
// the browser is idle): evaluating it takes a few hundred milliseconds that the first page load does not wait for.
import type * as ToneModule from "tone";
import type { ScoreNotes } from "./api";
import { ticksToSeconds } from "./music";

export interface TrackMix {
  muted: boolean;
  solo: boolean;
  volumeDb: number;
  program: number;
}

type Oscillator = "triangle" | "sine" | "square" | "sawtooth" | "fatsawtooth" | "fatsquare" | "fattriangle";

// A sound for each General MIDI family (program / 8): close enough to tell the instruments apart.
const FAMILY_SOUNDS: { oscillator: Oscillator; attackSeconds: number; releaseSeconds: number }[] = [
  { oscillator: "triangle", attackSeconds: 0.005, releaseSeconds: 0.6 }, // piano
  { oscillator: "sine", attackSeconds: 0.001, releaseSeconds: 0.9 }, // chromatic percussion
  { oscillator: "fatsine" as Oscillator, attackSeconds: 0.02, releaseSeconds: 0.1 }, // organ
  { oscillator: "triangle", attackSeconds: 0.002, releaseSeconds: 0.4 }, // guitar
  { oscillator: "square", attackSeconds: 0.01, releaseSeconds: 0.2 }, // bass
  { oscillator: "fatsawtooth", attackSeconds: 0.12, releaseSeconds: 0.5 }, // strings
  { oscillator: "fatsawtooth", attackSeconds: 0.15, releaseSeconds: 0.6 }, // ensemble
  { oscillator: "sawtooth", attackSeconds: 0.04, releaseSeconds: 0.2 }, // brass
  { oscillator: "square", attackSeconds: 0.04, releaseSeconds: 0.2 }, // reed
  { oscillator: "sine", attackSeconds: 0.05, releaseSeconds: 0.3 }, // pipe
  { oscillator: "fatsquare", attackSeconds: 0.01, releaseSeconds: 0.2 }, // synth lead
  { oscillator: "fattriangle", attackSeconds: 0.3, releaseSeconds: 1.0 }, // synth pad
  { oscillator: "sawtooth", attackSeconds: 0.1, releaseSeconds: 0.8 }, // synth effects
  { oscillator: "triangle", attackSeconds: 0.005, releaseSeconds: 0.5 }, // ethnic
  { oscillator: "sine", attackSeconds: 0.001, releaseSeconds: 0.3 }, // percussive
  { oscillator: "square", attackSeconds: 0.01, releaseSeconds: 0.3 }, // sound effects
];

type Tone = typeof ToneModule;

/** A drum kit on channel 10's General MIDI notes: kick and toms on a membrane, snares on noise, hi-hats
 * and cymbals on metal. */
class DrumKit {
  private membrane: ToneModule.MembraneSynth;
  private noise: ToneModule.NoiseSynth;
  private metal: ToneModule.MetalSynth;

  constructor(Tone: Tone, output: ToneModule.ToneAudioNode) {
    this.membrane = new Tone.MembraneSynth({ volume: -4 }).connect(output);
    this.noise = new Tone.NoiseSynth({
      volume: -14,
      envelope: { attack: 0.001, decay: 0.15, sustain: 0 },
    }).connect(output);
    this.metal = new Tone.MetalSynth({
      volume: -26,
      envelope: { attack: 0.001, decay: 0.08, release: 0.05 },
    }).connect(output);
  }

  play(Tone: Tone, pitch: number, time: number, velocity: number): void {
    if (pitch === 35 || pitch === 36) this.membrane.triggerAttackRelease("C1", "16n", time, velocity);
    else if ([41, 43, 45, 47, 48, 50].includes(pitch))
      this.membrane.triggerAttackRelease(Tone.Frequency(pitch - 5, "midi").toFrequency(), "8n", time, velocity);
    else if (pitch >= 37 && pitch <= 40) this.noise.triggerAttackRelease("16n", time, velocity);
    else {
      // Hi-hats short, an open hat or a cymbal longer and brighter.
      const open = pitch === 46 || pitch === 49 || pitch === 57 || pitch === 55 || pitch === 52;
      this.metal.triggerAttackRelease(open ? 400 : 250, open ? "8n" : "32n", time, velocity * (pitch === 51 ? 0.8 : 1));
    }
  }

  dispose(): void {
    this.membrane.dispose();
    this.noise.dispose();
    this.metal.dispose();
  }
}

function makeSynth(Tone: Tone, program: number): ToneModule.PolySynth {
  const sound = FAMILY_SOUNDS[Math.floor(program / 8) % 16];
  return new Tone.PolySynth(Tone.Synth, {
    volume: -10,
    oscillator: { type: sound.oscillator } as ToneModule.OmniOscillatorOptions,
    envelope: { attack: sound.attackSeconds, decay: 0.2, sustain: 0.6, release: sound.releaseSeconds },
  });
}

interface Channel {
  synth: ToneModule.PolySynth | DrumKit;
  volume: ToneModule.Volume;
}

export class Player {
  private channels: Channel[] = [];
  private score: ScoreNotes | null = null;
  private live: ToneModule.PolySynth | null = null;
  private click: ToneModule.MembraneSynth | null = null;
  private mixes: TrackMix[] = [];
  private tone: Tone | null = null;
  private loading: Promise<Tone> | null = null;
  private liveEvents: Promise<void> = Promise.resolve();
  onEnd: (() => void) | null = null;

  /** Tone.js, loaded once. */
  ready(): Promise<Tone> {
    this.loading ??= import("tone").then((module) => (this.tone = module));
    return this.loading;
  }

  /** Unlock audio: browsers allow it only after a click or a key press. */
  async unlock(): Promise<Tone> {
    const Tone = await this.ready();
    if (Tone.getContext().state !== "running") await Tone.start();
    return Tone;
  }

  get playing(): boolean {
    return this.tone?.getTransport().state === "started";
  }

  /** The playhead, in seconds from the start of the loaded score. */
  get positionSeconds(): number {
    return this.tone?.getTransport().seconds ?? 0;
  }

  /** Load `score` with a mix per track, replacing what was loaded; playback starts from the top. */
  async load(score: ScoreNotes, mixes: TrackMix[]): Promise<void> {
    const Tone = await this.ready();
    this.stop();
    this.disposeChannels();
    this.score = score;
    const transport = Tone.getTransport();
    transport.bpm.value = score.tempo_qpm;
    score.tracks.forEach((track, index) => {
      const volume = new Tone.Volume(0).toDestination();
      if (track.is_drum) {
        const kit = new DrumKit(Tone, volume);
        this.channels.push({ synth: kit, volume });
        for (const note of track.notes) {
          transport.schedule(
            (time) => {
              kit.play(Tone, note.pitch, time, note.velocity / 127);
            },
            ticksToSeconds(note.start_ticks, score),
          );
        }
        return;
      }
      const synth = makeSynth(Tone, mixes[index]?.program ?? track.program).connect(volume);
      this.channels.push({ synth, volume });
      for (const note of track.notes) {
        const startSeconds = ticksToSeconds(note.start_ticks, score);
        const durationSeconds = Math.max(0.03, ticksToSeconds(note.duration_ticks, score));
        const frequency = Tone.Frequency(note.pitch, "midi").toFrequency();
        transport.schedule((time) => {
          synth.triggerAttackRelease(frequency, durationSeconds, time, note.velocity / 127);
        }, startSeconds);
      }
    });
    const endSeconds = Math.max(0.5, this.durationSeconds);
    transport.schedule((time) => {
      if (!transport.loop) Tone.getDraw().schedule(() => this.finish(), time);
    }, endSeconds);
    transport.loopStart = 0;
    transport.loopEnd = endSeconds;
    this.mixes = mixes.map((mix) => ({ ...mix }));
    this.applyMix();
  }

  /** Whether `score` is the one loaded (another part of the page may have loaded its own since). */
  holds(score: ScoreNotes): boolean {
    return this.score === score;
  }

  get durationSeconds(): number {
    if (!this.score) return 0;
    let endTicks = 0;
    for (const track of this.score.tracks)
      for (const note of track.notes) endTicks = Math.max(endTicks, note.start_ticks + note.duration_ticks);
    return ticksToSeconds(endTicks, this.score);
  }

  setMix(index: number, mix: TrackMix): void {
    const before = this.mixes[index];
    this.mixes[index] = { ...mix };
    if (before && before.program !== mix.program && this.score) {
      // A new instrument needs a new synthesizer: reload at the same position.
      const position = this.positionSeconds;
      const wasPlaying = this.playing;
      void this.load(this.score, this.mixes).then(() => {
        if (wasPlaying) void this.play(position);
      });
      return;
    }
    this.applyMix();
  }

  private applyMix(): void {
    const soloing = this.mixes.some((mix) => mix.solo);
    this.channels.forEach((channel, index) => {
      const mix = this.mixes[index];
      if (!mix) return;
      channel.volume.volume.value = mix.volumeDb;
      channel.volume.mute = mix.muted || (soloing && !mix.solo);
    });
  }

  setLoop(loop: boolean): void {
    if (this.tone) this.tone.getTransport().loop = loop;
  }

  async play(fromSeconds?: number): Promise<void> {
    const Tone = await this.unlock();
    const transport = Tone.getTransport();
    if (fromSeconds !== undefined) transport.seconds = fromSeconds;
    else if (transport.seconds >= this.durationSeconds) transport.seconds = 0;
    transport.start();
  }

  pause(): void {
    this.tone?.getTransport().pause();
  }

  stop(): void {
    if (!this.tone) return;
    const transport = this.tone.getTransport();
    transport.stop();
    transport.seconds = 0;
  }

  private finish(): void {
    this.stop();
    this.onEnd?.();
  }

  private disposeChannels(): void {
    this.tone?.getTransport().cancel(0);
    for (const channel of this.channels) {
      channel.synth.dispose();
      channel.volume.dispose();
    }
    this.channels = [];
  }

  /** Sound a key of the keyboard (a live note, not recorded here). Key events are chained, so that a release
   * never overtakes its press while Tone.js is still loading. */
  noteOn(pitch: number, velocity = 90): void {
    this.liveEvents = this.liveEvents.then(async () => {
      const Tone = await this.unlock();
      this.live ??= makeSynth(Tone, 0).toDestination();
      this.live.triggerAttack(Tone.Frequency(pitch, "midi").toFrequency(), Tone.now(), velocity / 127);
    });
  }

  noteOff(pitch: number): void {
    this.liveEvents = this.liveEvents.then(() => {
      const Tone = this.tone;
      if (Tone) this.live?.triggerRelease(Tone.Frequency(pitch, "midi").toFrequency(), Tone.now());
    });
  }

  /** A metronome click now; the first beat of a bar is higher. */
  tick(downbeat: boolean): void {
    void this.unlock().then((Tone) => {
      this.click ??= new Tone.MembraneSynth({ volume: -12 }).toDestination();
      this.click.triggerAttackRelease(downbeat ? "C5" : "G4", 0.05, Tone.now());
    });
  }
}

export const player = new Player();
