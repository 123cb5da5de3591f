//! WebSocket relay (filled in below).
