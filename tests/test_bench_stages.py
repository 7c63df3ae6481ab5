"""benchmarks.stages: the step names of a fused stage, and the report."""
from benchmarks.stages import StageTime, format_report, group_by_step, peak_between, steps_of

NER = ("((((Events/Entities/GroupBatches/Read)+(ref_AppliedPTransform_Events-Entities-Ner_160))"
       "+(ref_AppliedPTransform_Events-RawFeatures_161))+(ref_AppliedPTransform_Events-Entities-Ner-Extra_162))")
JOIN = ("((Events/Cluster/Components/JoinNeighbours1/Flatten/Read)"
        "+(Events/Cluster/Components/JoinNeighbours1/Group/Write))")


def test_steps_of_a_fused_stage_in_order_once_each():
    assert steps_of(NER) == ["Events-Entities-Ner", "Events-RawFeatures"]
    assert steps_of(NER, 2) == ["Events-Entities", "Events-RawFeatures"]
    assert steps_of(JOIN) == ["Events-Cluster-Components"]  # a stage of reads only: the buffers it reads


def test_report_lists_long_stages_counts_short_ones_and_groups_by_first_step():
    stages = [StageTime(NER, 10.0, 5.0), StageTime(JOIN, 15.0, 0.02), StageTime(JOIN, 15.1, 0.03)]
    assert group_by_step(stages) == {"Events-Entities": [5.0], "Events-Cluster": [0.02, 0.03]}
    report = format_report(stages, started=8.0, ended=16.0, min_seconds=0.1, top=5)
    lines = report.splitlines()
    assert lines[0] == ("3 stages, 5.05 s in stages; first stage 2.00 s after start, last ends 7.13 s, "
                        "exit 8.00 s")
    assert "   0.00    5.00              Events-Entities-Ner, Events-RawFeatures" in lines
    assert "           0.05              2 stages under 0.1 s" in lines
    assert lines[-2:] == ["     1    5.00  Events-Entities", "     2    0.05  Events-Cluster"]
    assert format_report([], 0.0, 1.0, 0.1, 5).startswith("no FnApiRunner stage ran")


def test_memory_columns_show_the_peak_while_each_stage_ran():
    stages = [StageTime(NER, 10.0, 5.0), StageTime(JOIN, 15.5, 1.0)]
    samples = [(9.0, 100), (11.0, 900), (14.0, 700), (15.2, 400)]  # none inside the second stage
    driver = [(9.0, 50), (11.0, 300), (14.0, 350), (15.2, 200)]
    lines = format_report(stages, 8.0, 17.0, 0.1, 5, samples, driver).splitlines()
    assert lines[0].endswith("; peak 900 MB resident (all processes), 350 MB in this one (the runner)")
    assert "   0.00    5.00     900/350  Events-Entities-Ner, Events-RawFeatures" in lines
    assert "   5.50    1.00     400/200  Events-Cluster-Components" in lines  # the last sample before it
    assert peak_between(samples, 0.0, 1.0) is None
