"""The studio: OpenComposer's local server (HTTP API, storage, training jobs, audio) and its web UI.

- `settings`: every setting in one typed object, read from the command line and the environment;
- `home`: where files live, each named by an id, never by a name a user gave;
- `models` and `store`: the database (SQLAlchemy; SQLite in WAL mode by default) and its migrations;
- `jobs` and `worker`: training runs in worker processes, queued, stoppable and resumable;
- `compose`: running techniques, and what a composition's files and metrics are made from;
- `audio`: MIDI to WAV, OGG or MP3 with FluidSynth and a General MIDI soundfont;
- `server`: the FastAPI app, built by `server.app.create_app(settings)`.
"""
