//! Quarantine end to end: with the server stopped (SIGKILL), one chat's stored row is
//! corrupted in `chinwag.db` (an event body that is not an event, then another chat's
//! header stored as a blob). The server still starts (reading headers only: a corrupt header
//! is quarantined at start, corrupt events when the chat is first used), `/health` counts the
//! quarantined chats, the log names them, the other chats read back identical and go on, the
//! corrupt ones answer 404, and their rows are left in the database.

use crate::adv_net::gms_code;
use crate::common::*;
use serde_json::Value;

async fn health(server: &Server) -> R<Value> {
    Ok(client()
        .get(format!("{}/health", server.base))
        .send()
        .await?
        .json()
        .await?)
}

async fn transcript(chat: &Chat) -> R<Value> {
    let (s, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(s, 200, "{v}");
    Ok(v)
}

/// Runs `sql` with the chat id as `?1` on the stopped server's database.
fn corrupt(server: &Server, sql: &str, chat: &Chat) -> R {
    let db = rusqlite::Connection::open(server.db_file())?;
    let changed = db.execute(sql, [chat.chat_id.as_str()])?;
    assert_eq!(changed, 1, "{sql}");
    Ok(())
}

fn rows_of(server: &Server, chat: &Chat) -> R<(i64, i64)> {
    let db = rusqlite::Connection::open(server.db_file())?;
    let count = |table: &str| {
        db.query_row(
            &format!("SELECT COUNT(*) FROM {table} WHERE chat_id = ?1"),
            [chat.chat_id.as_str()],
            |r| r.get::<_, i64>(0),
        )
    };
    Ok((count("sessions")?, count("events")?))
}

#[tokio::test]
async fn a_corrupt_chat_is_quarantined_and_the_others_are_served() -> R {
    let launch = Launch {
        capture_stderr: true,
        ..Launch::default()
    };
    let mut server = Server::start_with("", launch).await?;
    let mut chats = Vec::new();
    for name in ["Good", "Header", "Body"] {
        let (chat, _) = request_chat(&server, &[("nickname", name)]).await?;
        let (s, _) = chat
            .call("send", &[("message", &format!("from {name}"))])
            .await?;
        assert_eq!(s, 200);
        chats.push(chat);
    }
    let (good, header, body) = (&chats[0], &chats[1], &chats[2]);
    let good_before = transcript(good).await?;
    let header_before = transcript(header).await?;

    // An event that does not decode.
    server.kill9()?;
    corrupt(
        &server,
        "UPDATE events SET body = '{\"index\": \"two\"' WHERE chat_id = ?1 AND idx = 2",
        body,
    )?;
    let mut server = server.restart().await?;
    let h = health(&server).await?;
    assert_eq!(
        (&h["quarantined_chats"], &h["open_sessions"]),
        (&0.into(), &3.into()),
        "{h}: its events are not read at start"
    );
    let (s, v) = body.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!((s, gms_code(&v)?), (400, 404), "{v}");
    let h = health(&server).await?;
    assert_eq!(
        (&h["quarantined_chats"], &h["open_sessions"]),
        (&1.into(), &2.into()),
        "{h}: quarantined when first used"
    );
    let (s, v) = body.call("send", &[("message", "x")]).await?;
    assert_eq!((s, gms_code(&v)?), (400, 404), "{v}");
    assert_eq!(transcript(good).await?, good_before);
    assert_eq!(transcript(header).await?, header_before);
    assert!(
        server
            .stderr()
            .iter()
            .any(|l| l.contains("quarantined") && l.contains(&body.chat_id)),
        "the log names the quarantined chat"
    );

    // A header stored as a blob instead of text.
    server.kill9()?;
    corrupt(
        &server,
        "UPDATE sessions SET record = CAST(record AS BLOB) WHERE chat_id = ?1",
        header,
    )?;
    let server = server.restart().await?;
    let h = health(&server).await?;
    assert_eq!(
        (&h["quarantined_chats"], &h["open_sessions"]),
        (&1.into(), &2.into()),
        "{h}: the header at start"
    );
    let (s, v) = body.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!((s, gms_code(&v)?), (400, 404), "{v}");
    let h = health(&server).await?;
    assert_eq!(
        (&h["quarantined_chats"], &h["open_sessions"]),
        (&2.into(), &1.into()),
        "{h}: and the events when used"
    );
    let (s, v) = header
        .call("refresh", &[("transcriptPosition", "1")])
        .await?;
    assert_eq!((s, gms_code(&v)?), (400, 404), "{v}");
    // The good chat reads back identical and goes on.
    assert_eq!(transcript(good).await?, good_before);
    let (s, v) = good.call("send", &[("message", "still here")]).await?;
    assert_eq!(s, 200, "{v}");
    let (chat, _) = request_chat(&server, &[("nickname", "New")]).await?;
    assert_eq!(chat.call("send", &[("message", "hi")]).await?.0, 200);
    // The corrupt rows are left where they were.
    let mut server = server;
    server.kill9()?;
    assert_eq!(rows_of(&server, body)?, (1, 2));
    assert_eq!(rows_of(&server, header)?, (1, 2));
    Ok(())
}
