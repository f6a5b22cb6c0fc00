// murmur evaluate: a saved model on a dataset.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "murmur/run/options.h"
#include "murmur/run/runner.h"
#include "murmur/train/node_model.h"

namespace murmur::run {

SavedModelEval EvaluateSavedModel(const Config& config, const std::string& model_file,
                                  bool train_split) {
  MURMUR_CHECK(IoError, std::filesystem::is_regular_file(model_file), model_file, ": no such file");
  std::ifstream in(model_file, std::ios::binary);
  MURMUR_CHECK(IoError, in.good(), model_file, ": cannot open");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  const data::DataSplits splits = data::LoadData(DataOptionsFrom(config));
  train::ModelOptions mo = ModelOptionsFrom(config);
  mo.device = "cpu";
  if (mo.name == "torchscript") mo.path = model_file;  // a saved module is a whole model
  const train::InputShape shape = train::InputShapeOf(splits.train);
  const std::vector<float> x0 =
      train::InitialParameters(mo, shape, static_cast<uint64_t>(config.get_int("run.seed")));
  train::ConfigureWorkerThread();
  auto model = train::MakeNodeModel(mo, train::OptimizerOptions{}, shape, x0);
  model->import_model(bytes, model_file);
  const train::EvalResult r = model->evaluate(train_split ? splits.train : splits.test, 0);
  return {r.loss, r.accuracy, r.samples, static_cast<int64_t>(x0.size())};
}

}  // namespace murmur::run
