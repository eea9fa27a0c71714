"""Notes, tracks and scores; MIDI and MusicXML I/O; piano rolls; transforms; sample melodies.

This layer never imports torch: everything above it builds on these plain objects.
"""
