//! Identity: token verification and the caller's `AuthContext`. No HTTP routing here.

pub mod jwt;
pub mod role;
