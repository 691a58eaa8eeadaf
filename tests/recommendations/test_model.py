"""The trained model: registered under its alias, better than popularity, and its numpy answers."""

from collections import Counter

import numpy as np
from mlflow import MlflowClient

from lakeforge.recommendations.artifact import FactorModel
from lakeforge.recommendations.recommend import NewInteraction, recommend


def test_registered_as_challenger_with_metrics_beside_the_baseline(world):
    client = MlflowClient(tracking_uri=world.config.platform.mlflow_tracking_uri)
    version = client.get_model_version_by_alias(world.config.tracking.registered_model, "challenger")
    assert str(version.version) == world.tracked.model_version
    metrics = client.get_run(world.tracked.run_id).data.metrics
    assert {"test_ndcg_at_10", "test_precision_at_10", "test_recall_at_10", "test_map_at_10", "baseline_ndcg_at_10"} <= set(metrics)
    assert metrics["test_ndcg_at_10"] > metrics["baseline_ndcg_at_10"]  # tastes are learnable: ALS beats popularity


def test_artifact_round_trips_and_holds_each_users_items(world, tmp_path):
    model = FactorModel.load(world.result.model.save(tmp_path / "artifact"))
    interactions = world.interactions()
    user = int(interactions["user_id"].value_counts().index[0])
    items, _ = model.history(model.user_rows[user])
    assert set(model.item_ids[items].tolist()) == set(interactions.loc[interactions["user_id"] == user, "item_id"])
    assert model.item_factors.shape == (len(model.item_ids), 8)


def category_share(items: list[int], categories: dict[int, str], category: str) -> float:
    return sum(categories[i] == category for i in items) / len(items)


def mean_position(ranking: list[int], items: list[int]) -> float:
    return sum(ranking.index(i) for i in items) / len(items)


def test_interactions_in_one_category_move_its_other_items_up(world):
    model, categories = world.result.model, world.categories()
    interactions = world.interactions()
    user = int(interactions["user_id"].value_counts().index[5])
    # The category the user touched least (ties by name, so the choice does not hang on set order),
    # its three most popular items the user has not seen as the new purchases, the rest to watch.
    seen = set(interactions.loc[interactions["user_id"] == user, "item_id"])
    counts = Counter(categories[i] for i in interactions.loc[interactions["user_id"] == user, "item_id"])
    target = min(sorted(set(categories.values())), key=lambda c: counts.get(c, 0))
    popular = interactions["item_id"].value_counts().index
    picks = [int(i) for i in popular if categories[int(i)] == target and int(i) not in seen][:3]
    rest = [i for i in categories if categories[i] == target and i not in seen and i not in picks]
    assert rest, "the test needs unseen items of the category beyond the picks"
    # The picks leave the ranking once seen; drop them from the earlier one too, so positions compare like for like.
    before = [i for i in recommend(model, user, len(categories)).item_ids if i not in picks]
    after = recommend(model, user, len(categories), [NewInteraction(i, "purchase", 1.0) for i in picks])
    assert after.source == "fold_in"
    assert mean_position(after.item_ids, rest) < mean_position(before, rest)
    assert category_share(after.item_ids[:10], categories, target) >= category_share(before[:10], categories, target)
    assert not set(after.item_ids) & (seen | set(picks))  # seen items, old and new, never come back


def test_unknown_user_gets_the_most_popular_items(world):
    interactions = world.interactions()
    users_per_item = interactions.drop_duplicates().groupby("item_id")["user_id"].nunique()
    answer = recommend(world.result.model, 10**9, 5)
    assert answer.source == "popular"
    expected = users_per_item.sort_values(ascending=False, kind="stable")
    assert [users_per_item[i] for i in answer.item_ids] == expected.iloc[:5].tolist()
    assert np.all(np.diff(answer.scores) <= 0)
