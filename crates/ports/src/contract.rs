//! The contract suite every store must pass. Placeholder, filled in by the
//! store work.
