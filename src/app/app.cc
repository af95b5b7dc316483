// Wiring of modules into a running node (filled in with the broker).
