"""bench.sanity.jetson_benchmarks: the wrapper fed through a real subprocess (NVIDIA's benchmark
cannot run here: a stand-in script prints its report format)."""
from bench.sanity import common, jetson_benchmarks
from tests.bench.sanity.fakes import nano_context
from tests.bench.test_jetson import fake_nano, runner

# The per-model report and the final table as benchmark.py prints them at the pinned commit
# (utils/run_benchmark_models.py report(): 'Model Name: {} \nFPS:{:.2f} \n'; benchmark.py:
# print(benchmark_table[['Model Name', 'FPS']])). Values are illustrative, not measurements.
REPORT = ("------------Executing inception_v4------------\n\n--------------------------\n\n"
          "Model Name: inception_v4 \nFPS:11.23 \n\n--------------------------\n\n"
          "Model Name: vgg19_N2 \nFPS:0.00 \n\n")


TABLE = "         Model Name    FPS\n0      inception_v4  11.23\n1          vgg19_N2   9.87\n"


def test_parse_per_model_reports_and_the_final_table():
    assert jetson_benchmarks.parse_jetson_benchmarks(REPORT) == {"inception_v4": 11.23, "vgg19_N2": 0.0}
    assert jetson_benchmarks.parse_jetson_benchmarks(TABLE) == {"inception_v4": 11.23, "vgg19_N2": 9.87}
    assert jetson_benchmarks.parse_jetson_benchmarks("Exiting. Check if TensorRT is installed") == {}


def test_table_lists_every_nano_model_beside_the_nx_sample():
    table = jetson_benchmarks.jetson_benchmarks_table({"inception_v4": 11.23})
    assert [row[0] for row in table][:2] == ["inception_v4", "vgg19_N2"] and len(table) == 8
    assert table[0] == ["inception_v4", 11.23, "fp16", "n/a", "311.73"]
    assert table[1][1] is None


def test_command_is_the_readme_nano_command_with_jetson_clocks():
    argv = jetson_benchmarks.jetson_benchmarks_command("/jb", "/jb/models")
    assert argv[1:3] == ["/jb/benchmark.py", "--all"]
    assert argv[argv.index("--jetson_devkit") + 1] == "nano"
    assert argv[argv.index("--precision") + 1] == "fp16" and argv[-1] == "--jetson_clocks"


STAND_IN = '''import sys
input("Please close all other applications and Press Enter to continue...")
print("Model Name: inception_v4 \\nFPS:11.23 \\n")
print("Model Name: vgg19_N2 \\nFPS:9.87 \\n")
sys.exit(0)
'''


def test_wrapper_feeds_enter_and_parses_a_run(tmp_path):
    repo = tmp_path / "jetson_benchmarks"
    repo.mkdir()
    (repo / "benchmark.py").write_text(STAND_IN)
    pin = common.expected_versions("32.7.1")["pins"]["jetson_benchmarks"]
    fake_nano(tmp_path / "root")
    ctx = common.Context(root=str(tmp_path / "root"), jetson_benchmarks=str(repo),
                         run=runner({"git": (0, pin + "\n")}))
    result = jetson_benchmarks.check_jetson_benchmarks(ctx)
    assert result.data["table"][0][:2] == ["inception_v4", 11.23]
    assert result.status == common.FAIL and "2/8 models ran (exit 0)" in result.reason
    assert result.hint.startswith("failed: super_resolution_bsd500, unet-segmentation")


def test_wrapper_refuses_an_unpinned_clone(tmp_path):
    fake_nano(tmp_path)
    ctx = common.Context(root=str(tmp_path), jetson_benchmarks="/jb", run=runner({"git": (0, "c029c7de35d6\n")}))
    result = jetson_benchmarks.check_jetson_benchmarks(ctx)
    assert result.status == common.FAIL and "not the pinned d0e474ff5e79" in result.reason


def test_jetson_benchmarks_is_opt_in_and_skips_off_a_jetson(tmp_path):
    assert jetson_benchmarks.check_jetson_benchmarks(nano_context(tmp_path)).reason.startswith("opt-in")
    here = common.Context(root=str(tmp_path / "elsewhere"), run=runner({}))
    assert jetson_benchmarks.check_jetson_benchmarks(here).status == common.SKIP
