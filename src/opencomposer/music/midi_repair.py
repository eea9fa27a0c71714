"""Zero-length notes written note-off first: found and mended before symusic pairs the events.

Some programs write the events of one tick note-offs first. music21 does (its `MidiEvent.sortOrder`),
so a grace note, which it makes zero ticks long, comes out as a note-off and then a note-on of one
pitch at one tick. symusic pairs the events of a track in the order written, each note-off ending the
oldest sounding note of its channel and pitch: this note-off finds nothing sounding and is ignored,
the note-on takes the next note-off of its pitch, every later note of that pitch the note-off of the
note after it, and the last note-on is never switched off, so its note is dropped. One note is lost,
and the others of that pitch have the wrong lengths, to the end of the track.

Such a note is a note-off that finds nothing sounding on its channel and pitch, then a note-on of
them at the same tick that has no note-off of its own: the next event of that channel and pitch is a
note-on, or a note-off directly followed by a note-on at its tick (the next such note), or there is
none. Mending puts a note-off right after the note-on, at its tick, and symusic reads the zero-length
note it was. A note-on that does have a note-off of its own is left as written: the note-off before
it was a spare one (some sequencers write one before every note).

Finding them takes a walk over the events in Python, about 1 ms for a POP909 song, longer than
all the rest of reading it. So `read_midi` first asks a question that symusic answers in about 0.1 ms
and that every file losing notes this way answers yes to: was some note-on left without a note-off
(`drops_note_ons`)? Only such files are walked and mended (`close_notes_written_off_first`), then
read again.
"""

from __future__ import annotations

from collections.abc import Iterator

from symusic.core import ScoreTick

_END_OF_TRACK = b"\xff\x2f\x00"
# A note-on of a channel needs its status byte somewhere in the track (running status only repeats
# one); finding the byte is quick, and a false find costs no more than a channel closed for nothing.
_NOTE_ON_STATUSES = tuple(bytes((0x90 | channel,)) for channel in range(16))
# A note-off (velocity 0) for every pitch of a channel, the first with its status, the rest with
# running status, each at delta time 0 except the first, which takes the end-of-track event's.
_ALL_NOTES_OFF = tuple(
    bytes((0x80 | channel, 0, 0)) + b"".join(bytes((0, pitch, 0)) for pitch in range(1, 128)) for channel in range(16)
)
_SLOTS = 16 * 128  # one per channel and pitch: channel * 128 + pitch


def drops_note_ons(data: bytes, note_count: int) -> bool:
    """Whether symusic, which found `note_count` notes in `data`, left some note-on without a note-off.

    Answered by a second, quick read of a copy of `data` in which each track ends by switching off
    every pitch of the channels it plays notes on: when the copy has more notes, some note-on was still
    waiting for its note-off at the end of its track. A track that does not end with an end-of-track
    event, or a copy that symusic cannot read, counts as a yes: the caller then looks closer.
    """
    pieces: list[bytes] = []
    copied = 0  # data[:copied] is already in `pieces`
    for start, end in _track_bodies(data):
        channels = [channel for channel in range(16) if data.find(_NOTE_ON_STATUSES[channel], start, end) >= 0]
        if not channels:
            continue
        if not data.endswith(_END_OF_TRACK, start, end):
            return True
        notes_off = b"\x00".join(_ALL_NOTES_OFF[channel] for channel in channels) + b"\x00" + _END_OF_TRACK
        length = end - start - len(_END_OF_TRACK) + len(notes_off)
        pieces += [data[copied : start - 4], length.to_bytes(4, "big"), data[start : end - 3], notes_off]
        copied = end
    pieces.append(data[copied:])
    try:
        extended = ScoreTick.from_midi(b"".join(pieces))
    except Exception:
        return True
    return int(extended.note_num()) > note_count


def close_notes_written_off_first(data: bytes) -> bytes:
    """`data` with a note-off right after each zero-length note written note-off first (see above).

    Returns `data` itself when there is none.
    """
    pieces: list[bytes] = []
    copied = 0  # data[:copied] is already in `pieces`
    for start, end in _track_bodies(data):
        places = _zero_length_notes_written_off_first(data[start:end])
        if not places:
            continue
        pieces += [data[copied : start - 4], (end - start + 4 * len(places)).to_bytes(4, "big")]
        copied = start
        for offset, status, pitch in sorted(places):
            # At delta time 0, a note-on of velocity 0 (a note-off) with the note-on's own status, so
            # that the events after it that rely on running status read as before.
            pieces += [data[copied : start + offset], bytes((0, status, pitch, 0))]
            copied = start + offset
    if not pieces:
        return data
    pieces.append(data[copied:])
    return b"".join(pieces)


def _track_bodies(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of the events of each track chunk of `data`, whose chunk headers have been checked."""
    tracks_left = int.from_bytes(data[10:12], "big")
    position = 8 + int.from_bytes(data[4:8], "big")
    while tracks_left and position + 8 <= len(data):
        start = position + 8
        end = min(start + int.from_bytes(data[position + 4 : start], "big"), len(data))
        if data[position : position + 4] == b"MTrk":
            tracks_left -= 1
            yield start, end
        position = end


def _zero_length_notes_written_off_first(track: bytes) -> list[tuple[int, int, int]]:
    """Where one track's events need a note-off: (offset just after the note-on, its status, its pitch).

    A track this walk cannot read the way symusic does (running status with nothing to run on, a
    system message, a delta time or length of more than 4 bytes, an event cut short) is left as it
    is: no places.
    """
    places: list[tuple[int, int, int]] = []
    sounding = [0] * _SLOTS
    spare_offs = [0] * _SLOTS  # note-offs that found nothing sounding, at the tick in `spare_offs_tick`
    spare_offs_tick = [-1] * _SLOTS
    # A note-on that came right after a spare note-off, until what follows shows whether it has a
    # note-off of its own: (place, status, the tick of the note-off that may be its own, -1 before one).
    waiting: dict[int, tuple[int, int, int]] = {}
    tick = 0  # counts the nonzero delta times: only "this tick or a later one" matters here
    status = 0  # the running status; 0 where there is none
    is_note, channel_slots, data_bytes = False, 0, 2
    i = 0
    try:
        while i < len(track):
            byte = track[i]
            i += 1
            if byte:
                # A zero delta time written on several bytes counts as a later tick: at worst a note is missed.
                tick += 1
                delta_bytes = 1
                while byte & 0x80:
                    if delta_bytes == 4:
                        return []
                    byte = track[i]
                    i += 1
                    delta_bytes += 1
            byte = track[i]
            if byte & 0x80:
                i += 1
                if byte >= 0xF0:
                    if byte == 0xFF:
                        if track[i] == 0x2F:
                            break  # the end of the track: symusic reads no further
                        i += 1
                    elif byte != 0xF0:
                        return []
                    length = 0
                    for _ in range(4):
                        byte = track[i]
                        i += 1
                        length = (length << 7) | (byte & 0x7F)
                        if not byte & 0x80:
                            break
                    else:
                        return []
                    i += length
                    status = 0
                    continue
                # What the events with this status need, worked out once rather than at each event.
                status = byte
                is_note = status < 0xA0
                channel_slots = (status & 0x0F) << 7
                data_bytes = 1 if 0xC0 <= status < 0xE0 else 2
            elif not status:
                return []
            if not is_note:
                i += data_bytes
                continue
            slot = channel_slots | (track[i] & 0x7F)
            is_note_on = status >= 0x90 and track[i + 1] > 0
            i += 2
            if is_note_on:
                if slot in waiting:
                    place, place_status, own_off_tick = waiting.pop(slot)
                    if own_off_tick < 0 or own_off_tick == tick:
                        # A note-on before any note-off, or right after one at its tick (a spare note-off
                        # for this note-on, then): the waiting note-on was a zero-length note.
                        places.append((place, place_status, slot & 0x7F))
                        if own_off_tick < 0:
                            sounding[slot] -= 1
                        else:
                            spare_offs[slot], spare_offs_tick[slot] = 1, tick
                if spare_offs[slot] and spare_offs_tick[slot] == tick:
                    spare_offs[slot] -= 1
                    waiting[slot] = (i, status, -1)
                sounding[slot] += 1
                continue
            if slot in waiting:
                place, place_status, own_off_tick = waiting[slot]
                if own_off_tick < 0:
                    waiting[slot] = (place, place_status, tick)
                    sounding[slot] -= 1
                    continue
                del waiting[slot]  # a second note-off: the first one was the waiting note's own
            if sounding[slot]:
                sounding[slot] -= 1
            elif spare_offs_tick[slot] == tick:
                spare_offs[slot] += 1
            else:
                spare_offs[slot], spare_offs_tick[slot] = 1, tick
    except IndexError:
        return []
    if i > len(track):
        return []
    # A note-on still waiting for any note-off at the end of the track was a zero-length note too.
    places += [(place, place_status, slot & 0x7F) for slot, (place, place_status, off) in waiting.items() if off < 0]
    return places
