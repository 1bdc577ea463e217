"""Audio for voice sessions: WAV files, sound devices, levels, voice activity and turns.

Nothing is imported here: numpy, soxr and sounddevice load only when a module of this package that
needs them is imported, and sounddevice only inside the functions of `devices` that open PortAudio,
so the chat app starts without any of them.

Modules, one idea each:
  errors     AudioError, AudioDeviceError, WavError (import-light)
  pcm        16-bit mono PCM conversions and resampling (numpy, soxr)
  levels     RMS and peak dBFS per frame, with peak hold, for a meter
  vad        the VoiceActivityDetector protocol and the adaptive energy VAD
  turns      turn detection on top of a VAD: pre-roll, maximum turn length
  wav        reading any PCM/float WAV as 16-bit mono, writing 16-bit mono
  sources    the AudioSource protocol; WAV files and arrays as sources, paced or fast
  playback   the playback queue (flush, deferred flush) and the clocked (virtual) speaker
  devices    sounddevice <-> asyncio: microphone source, speaker sink, device list
  synth      speech-like synthesis (the demo's voice; test and benchmark material)
  events     what a voice session reports to a UI or the headless runner
  session    VoiceSession: microphone -> VAD -> turns -> BidiSession -> speaker
  headless   run_voice(): a voice session without the TUI, for `tui-chat voice`
"""
