//! Rollup maintenance (placeholder: being written).

use sqlx::PgConnection;
use uuid::Uuid;

use crate::orders::model::Status;

/// An order's state before a change: its status and whether it was deleted.
/// `None` for an order being created.
pub type PreviousState = Option<(Status, bool)>;

/// Brings the rollups in step with an order that just changed, inside the same
/// transaction: removes what its previous state contributed and adds what its
/// current state contributes.
pub async fn record_transition(
    _conn: &mut PgConnection,
    _order_id: Uuid,
    _previous: PreviousState,
) -> sqlx::Result<()> {
    Ok(())
}
