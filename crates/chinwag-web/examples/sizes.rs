//! Prints the raw and gzip sizes of every embedded asset and each area's JS + CSS totals.

fn main() {
    print!("{}", chinwag_web::sizes::report());
}
