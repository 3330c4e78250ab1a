"""An in-memory stand-in for Ray Serve's Counter and Histogram, with the same checks on tags."""

from collections import defaultdict

from router.metrics import MetricSpec


class FakeMetric:
    """Records every `inc`/`observe` by tag set; refuses what Ray refuses (unknown or missing
    tag keys, counter increments that are not positive)."""

    def __init__(self, spec: MetricSpec) -> None:
        self.spec = spec
        self.values: dict[tuple, list[float]] = defaultdict(list)

    def inc(self, value: float = 1.0, tags: dict[str, str] | None = None) -> None:
        assert self.spec.kind == "counter", self.spec.name
        assert value > 0, f"{self.spec.name}: Ray refuses increments <= 0, got {value}"
        self._record(value, tags)

    def observe(self, value: float, tags: dict[str, str] | None = None) -> None:
        assert self.spec.kind == "histogram", self.spec.name
        self._record(value, tags)

    def _record(self, value: float, tags: dict[str, str] | None) -> None:
        tags = tags or {}
        assert set(tags) == set(self.spec.tag_keys), (self.spec.name, tags)
        assert all(isinstance(v, str) for v in tags.values()), tags
        self.values[tuple(sorted(tags.items()))].append(value)

    def total(self, **tags: str) -> float:
        """The sum of everything recorded with tags including `tags`."""
        return sum(
            sum(values) for key, values in self.values.items() if set(tags.items()) <= set(key)
        )

    def count(self, **tags: str) -> int:
        return sum(len(values) for key, values in self.values.items() if set(tags.items()) <= set(key))


class FakeMetrics:
    """A metric factory for `RouterMetrics`, keeping every metric it made by name."""

    def __init__(self) -> None:
        self.by_name: dict[str, FakeMetric] = {}

    def __call__(self, spec: MetricSpec) -> FakeMetric:
        self.by_name[spec.name] = FakeMetric(spec)
        return self.by_name[spec.name]

    def __getitem__(self, name: str) -> FakeMetric:
        return self.by_name[name]
