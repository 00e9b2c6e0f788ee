//! Bulk insertion for `commlog seed`: synthetic logs in multi-row INSERTs of a few hundred rows
//! per statement and one transaction per batch, so a million rows load in minutes.

use super::{Db, dialect};
use crate::store::SeedLog;
use crate::{DbTime, Engine, StoreResult};
use commlog_domain::new_id;
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

/// Rows per INSERT statement: 33 binds each keeps under SQLite's 32,766-parameter limit.
const ROWS_PER_STATEMENT: usize = 500;

impl Engine<Db> {
    pub(crate) async fn insert_seed_logs(
        &self,
        company_id: Uuid,
        logs: &[SeedLog],
    ) -> StoreResult<u64> {
        if crate::encryption::current().is_some() {
            // Bulk rows skip the per-row sealing; writing them in clear would break the promise.
            return Err(crate::StoreError::Refused {
                code: "encryption_at_rest",
                message: "synthetic logs cannot be bulk-inserted while encryption at rest is on".into(),
            });
        }
        let mut tx = self.write.begin().await?;
        for chunk in logs.chunks(ROWS_PER_STATEMENT) {
            let mut qb = QueryBuilder::<Db>::new(
                "INSERT INTO crm_communication_logs (company_id, id, customer_id, contact_id, assigned_to_user_id, created_by_user_id, \
                 team_id, communication_type, channel, direction, subject, start_time, end_time, duration_minutes, duration_seconds, \
                 content, summary, priority, status, is_internal, sentiment, sentiment_score, key_topics, requires_follow_up, \
                 follow_up_assigned_to, follow_up_date, follow_up_status, source, external_id, created_at, updated_at, is_deleted, thread_id, call_outcome) ",
            );
            qb.push_values(chunk, |mut b, s| {
                let l = &s.log;
                b.push_bind(company_id)
                    .push_bind(l.id)
                    .push_bind(l.customer_id)
                    .push_bind(l.contact_id)
                    .push_bind(l.assigned_to_user_id)
                    .push_bind(l.created_by_user_id)
                    .push_bind(l.team_id)
                    .push_bind(l.communication_type.as_str())
                    .push_bind(l.channel.clone())
                    .push_bind(l.direction.as_str())
                    .push_bind(l.subject.clone())
                    .push_bind(DbTime::from(l.start_time))
                    .push_bind(DbTime::opt(l.end_time))
                    .push_bind(l.duration_minutes)
                    .push_bind(l.duration_seconds)
                    .push_bind(l.content.clone())
                    .push_bind(l.summary.clone())
                    .push_bind(l.priority.as_str())
                    .push_bind(l.status.as_str())
                    .push_bind(l.is_internal)
                    .push_bind(l.sentiment.map(|x| x.as_str()))
                    .push_bind(l.sentiment_score)
                    .push_bind(Json(l.key_topics.clone()))
                    .push_bind(l.requires_follow_up)
                    .push_bind(l.follow_up_assigned_to)
                    .push_bind(DbTime::opt(l.follow_up_date))
                    .push_bind(l.follow_up_status.map(|x| x.as_str()))
                    .push_bind(l.source.clone())
                    .push_bind(l.external_id.clone())
                    .push_bind(DbTime::from(l.created_at))
                    .push_bind(DbTime::from(l.updated_at))
                    .push_bind(false)
                    .push_bind(l.thread_id)
                    .push_bind(l.call_outcome.map(|o| o.as_str()));
            });
            qb.build().execute(&mut *tx).await?;

            let participants: Vec<(Uuid, usize, &crate::store::SeedParticipant)> = chunk
                .iter()
                .flat_map(|s| {
                    s.participants
                        .iter()
                        .enumerate()
                        .map(move |(i, p)| (s.log.id, i, p))
                })
                .collect();
            for part in participants.chunks(ROWS_PER_STATEMENT * 2) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO crm_communication_participants (company_id, id, communication_log_id, position, role, email, phone, name, contact_id) ",
                );
                qb.push_values(part, |mut b, (log_id, pos, p)| {
                    b.push_bind(company_id)
                        .push_bind(new_id())
                        .push_bind(*log_id)
                        .push_bind(i32::try_from(*pos).unwrap_or(0))
                        .push_bind(p.role.as_str())
                        .push_bind(p.email.clone())
                        .push_bind(p.phone.clone())
                        .push_bind(p.name.clone())
                        .push_bind(p.contact_id);
                });
                qb.build().execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        let _ = dialect::LIVE;
        Ok(u64::try_from(logs.len()).unwrap_or(u64::MAX))
    }
}
