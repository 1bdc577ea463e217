"""Sound itself: WAV files, sound devices, PCM, levels, voice activity, playback, synthesis.

Nothing is imported here: numpy, soxr and sounddevice load only when a module of this package that
needs them is imported, and sounddevice only inside the functions of `devices` that open PortAudio,
so the chat app starts without any of them. Of tui_chat it imports only the ground modules
(`errors`); the voice conversation built on it lives in `tui_chat.voice`.

Modules, one idea each:
  errors     AudioError, AudioDeviceError, WavError (import-light)
  clock      AudioClock: time counted in samples of input; LoopLag: loop stalls on a device's clock
  pcm        16-bit mono PCM conversions and resampling (numpy, soxr)
  levels     RMS and peak dBFS per frame, with peak hold, for a meter
  vad        the VoiceActivityDetector protocol and the adaptive energy VAD
  wav        reading any PCM/float WAV as 16-bit mono, writing 16-bit mono
  sources    the AudioSource protocol; WAV files and arrays as sources, paced or fast
  playback   the playback queue (flush, deferred flush, jitter buffer, underruns) and the clocked (virtual) speaker
  devices    sounddevice <-> asyncio: microphone source, speaker sink, device list
  synth      speech-like synthesis (the demo's voice; test and benchmark material)
"""
