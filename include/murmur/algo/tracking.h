// Gradient tracking's options (src/algo/gradient_tracking.cc; key gradient_tracking.form).
#pragma once

namespace murmur::algo {

struct GradientTrackingOptions {
  // atc: adapt then combine, x⁺ = W(x + u + c) (epfml/relaysgd's form, the default);
  // cta: combine then adapt, x⁺ = W x + y (DSGT as Pu & Nedić write it; BEER with the identity
  // compressor and gamma = 1 is this form).
  enum class Form { kAtc, kCta };
  Form form = Form::kAtc;
};

}  // namespace murmur::algo
