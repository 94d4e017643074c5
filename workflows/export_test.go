package workflows

// VersionLatest is the task workflow's latest version, for tests that pin
// an older one.
const VersionLatest = versionLatest
