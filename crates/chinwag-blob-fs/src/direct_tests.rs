//! The pool's bound, and a direct write the filesystem refuses (a length it cannot take,
//! which the kernel answers with `EINVAL` as a filesystem without `O_DIRECT` would).

use super::*;

#[test]
fn the_pool_lends_pairs_up_to_its_bound_and_takes_them_back() {
    let pool = Pool::new(true);
    let lent: Vec<[Buf; 2]> = (0..POOL_UPLOADS).filter_map(|_| pool.take_pair()).collect();
    assert_eq!(lent.len(), POOL_UPLOADS);
    assert!(pool.take_pair().is_none(), "no pair past the bound");
    drop(lent);
    assert!(pool.take_pair().is_some(), "returned pairs are lent again");
    let spares = pool.free.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(
        spares.made,
        2 * POOL_UPLOADS,
        "no buffer made past the bound"
    );
    drop(spares);
    assert!(
        Pool::new(false).take_pair().is_none(),
        "none while direct I/O is off"
    );
}

#[test]
fn buffers_are_aligned_and_fill_to_their_size() {
    let pool = Pool::new(true);
    let Some([mut buf, _]) = pool.take_pair() else {
        panic!("a fresh pool lends a pair");
    };
    assert_eq!(buf.filled().as_ptr() as usize % ALIGN, 0);
    assert_eq!(buf.fill(&[7; 1000]), 1000);
    assert_eq!(buf.fill(&vec![8; BUF]), BUF - 1000, "only what fits");
    assert!(buf.is_full());
    buf.clear();
    assert!(buf.filled().is_empty());
}

#[test]
fn a_refused_direct_write_goes_through_the_cache_and_turns_direct_io_off() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("f");
    std::fs::write(&path, b"head")?;
    let file = std::fs::OpenOptions::new().write(true).open(&path)?;
    let pool = Pool::new(true);
    let Some([mut odd, _]) = pool.take_pair() else {
        panic!("a fresh pool lends a pair");
    };
    // At offset 4, 1,000 bytes: neither is a whole block, so the direct write is refused.
    odd.fill(&[42; 1000]);
    let mut out = Out::new(file, Arc::clone(&pool), 4);
    out.write_full(&odd)?;
    assert!(!pool.is_on(), "direct I/O is off after the refusal");
    odd.clear();
    odd.fill(b"tail");
    assert_eq!(out.finish(&odd)?, 1008);
    let mut want = b"head".to_vec();
    want.extend_from_slice(&[42; 1000]);
    want.extend_from_slice(b"tail");
    assert_eq!(std::fs::read(&path)?, want);
    Ok(())
}
