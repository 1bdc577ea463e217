"""Voice conversations: turns, replies and barge-in over a realtime session, for the TUI and `tui-chat voice`.

Above `realtime` (the providers' bidirectional sessions) and `audio` (sound itself); below the
config, the session wiring, the UI and the CLI. Nothing is imported here: numpy loads only with
the modules that need it, so the config loader and the CLI can read `settings` and `events` light.

Modules, one idea each:
  settings      the `[voice]` table, the names of modes and choices, turn detection per provider (light)
  events        what a voice session reports (plain values, light), and a meter's readings
  dispatch      VoiceEventHandler and dispatch(): one method per kind of event, for every front end
  opening       open_voice(): the one way the TUI and `tui-chat voice` open the model's side
  turns         turn detection on top of a VAD: pre-roll, maximum turn length
  modal_turns   KeyTiming and ModalTurns: push-to-talk, hold and hands-free turn taking
  metered_sink  a playback sink that measures the reply audio as it is heard
  playback_lane PlaybackLane: reply audio to the speaker as it arrives, on the model session's thread
  session       VoiceSession: microphone -> VAD -> turns -> BidiSession -> speaker; decides how replies end
  history       VoiceHistory: the exchanges into the conversation in order, each reply once it ended
  headless      run_voice(): a voice session without the TUI, for `tui-chat voice`
"""
