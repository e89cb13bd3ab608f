/**
 * The tests read their children's output as text (a pid from `console.log`, `node -p`'s answer, a mocha's marks):
 * FORCE_COLOR, which CI may set so that the run's own report is coloured, would make node's console and
 * util.inspect and mocha wrap those in escape codes (`\x1b[33mtrue\x1b[39m`, a pid read as NaN). It is taken out of
 * the environment of the test processes and of everything they start; mocha's own report has already decided its
 * colours by the time this loads. A test about colour sets it for its own child.
 */
delete process.env.FORCE_COLOR;
