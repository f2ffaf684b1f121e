//! The private cluster as root from a directory the `postgres` user cannot
//! enter (a checkout under root's own 0700 home): it starts elsewhere and says
//! where, instead of failing in `initdb`.

use std::os::unix::fs::PermissionsExt;

use ordersearch::db::cluster::PrivateCluster;
use sqlx::Connection;

use crate::helpers::skipped;

#[tokio::test]
async fn as_root_a_data_directory_the_postgres_user_cannot_enter_still_holds_the_cluster() {
    if !nix::unistd::geteuid().is_root() {
        return skipped("only root runs the cluster as another user");
    }
    let home = std::env::temp_dir().join(format!(
        "ordersearch-closed-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let asked = home.join("data").join("postgres");

    let cluster = PrivateCluster::start(&asked)
        .await
        .expect("starting the cluster");
    assert!(
        cluster.data_dir().starts_with("/var/lib/ordersearch"),
        "the cluster lives where the postgres user can reach it: {}",
        cluster.data_dir().display()
    );
    let mut connection = sqlx::PgConnection::connect_with(&cluster.connect_options("postgres"))
        .await
        .expect("connecting to the cluster");
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(one, 1);
    connection.close().await.unwrap();
    cluster.stop().await.expect("stopping the cluster");
    let again = PrivateCluster::start(&asked)
        .await
        .expect("starting it again");
    assert_eq!(
        again.data_dir(),
        cluster.data_dir(),
        "the next start finds it"
    );
    again.stop().await.unwrap();
    std::fs::remove_dir_all(cluster.data_dir()).unwrap();
    std::fs::remove_dir_all(&home).unwrap();
}
