"""The outside world behind small interfaces, each with a deterministic sandbox that tests,
`sandbox: true` requests and the default configuration use."""
