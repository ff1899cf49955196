// Preloaded (`node --require`) into helper processes spawned with an IPC channel: when the parent
// goes away for any reason (normal exit, crash, SIGKILL) the channel closes and this process exits
// too, so no emulator outlives the test run.
if (process.channel) {
  process.on('disconnect', () => process.exit(0));
  // The channel itself must not keep this process alive.
  process.channel.unref();
}
