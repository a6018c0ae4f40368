(* Assumptions.v: prints the axioms every theorem of Main.v depends on.
   coq/check_proofs.py compiles this file and fails unless each list is inside
   the allowlist of DEVELOPERS.md (classical reals). Keep one block per theorem
   of Main.v, in the same order. *)
From ADCorrect Require Main.

Goal True. idtac "@@THEOREM format_card". Abort.
Print Assumptions Main.format_card.
Goal True. idtac "@@THEOREM format_card_binary16". Abort.
Print Assumptions Main.format_card_binary16.
Goal True. idtac "@@THEOREM format_card_bfloat16". Abort.
Print Assumptions Main.format_card_bfloat16.
Goal True. idtac "@@THEOREM format_card_binary32". Abort.
Print Assumptions Main.format_card_binary32.
Goal True. idtac "@@THEOREM T2_kink_count_bound". Abort.
Print Assumptions Main.T2_kink_count_bound.
Goal True. idtac "@@THEOREM T2_ndf_count_bound". Abort.
Print Assumptions Main.T2_ndf_count_bound.
Goal True. idtac "@@THEOREM T2_ndf_fraction_bound". Abort.
Print Assumptions Main.T2_ndf_fraction_bound.
Goal True. idtac "@@THEOREM T2_tightness". Abort.
Print Assumptions Main.T2_tightness.
Goal True. idtac "@@THEOREM T2_tightness_network". Abort.
Print Assumptions Main.T2_tightness_network.
Goal True. idtac "@@THEOREM T5a_inc_nonempty". Abort.
Print Assumptions Main.T5a_inc_nonempty.
Goal True. idtac "@@THEOREM T5b_not_NS_differentiable". Abort.
Print Assumptions Main.T5b_not_NS_differentiable.
Goal True. idtac "@@THEOREM T5c_NS_not_differentiable". Abort.
Print Assumptions Main.T5c_NS_not_differentiable.
Goal True. idtac "@@THEOREM T3_ndf_iff_NS". Abort.
Print Assumptions Main.T3_ndf_iff_NS.
Goal True. idtac "@@THEOREM T1_ad_correct". Abort.
Print Assumptions Main.T1_ad_correct.
Goal True. idtac "@@THEOREM T4_ad_in_clarke". Abort.
Print Assumptions Main.T4_ad_in_clarke.
Goal True. idtac "@@THEOREM ad_forward_eq_reverse". Abort.
Print Assumptions Main.ad_forward_eq_reverse.
Goal True. idtac "@@THEOREM ad_forward_eq_reverse_dot". Abort.
Print Assumptions Main.ad_forward_eq_reverse_dot.
Goal True. idtac "@@THEOREM hardswish_kinks_slopes". Abort.
Print Assumptions Main.hardswish_kinks_slopes.
Goal True. idtac "@@THEOREM softshrink_kinks_slopes". Abort.
Print Assumptions Main.softshrink_kinks_slopes.
Goal True. idtac "@@THEOREM T4_fails_without_bias". Abort.
Print Assumptions Main.T4_fails_without_bias.
Goal True. idtac "@@THEOREM T5a_clarke_exact". Abort.
Print Assumptions Main.T5a_clarke_exact.
Goal True. idtac "@@THEOREM T2_tightness_output_params". Abort.
Print Assumptions Main.T2_tightness_output_params.
Goal True. idtac "@@THEOREM T5c_ad_in_clarke_perturbable". Abort.
Print Assumptions Main.T5c_ad_in_clarke_perturbable.
Goal True. idtac "@@THEOREM perturbable_params_distinct". Abort.
Print Assumptions Main.perturbable_params_distinct.
Goal True. idtac "@@THEOREM T1_mlp_ad_correct". Abort.
Print Assumptions Main.T1_mlp_ad_correct.
Goal True. idtac "@@THEOREM T2_mlp_ndf_count_bound". Abort.
Print Assumptions Main.T2_mlp_ndf_count_bound.
Goal True. idtac "@@THEOREM T3_mlp_ndf_iff_NS". Abort.
Print Assumptions Main.T3_mlp_ndf_iff_NS.
Goal True. idtac "@@THEOREM T4_mlp_ad_in_clarke". Abort.
Print Assumptions Main.T4_mlp_ad_in_clarke.
Goal True. idtac "@@THEOREM nonvacuity_relu_mlp". Abort.
Print Assumptions Main.nonvacuity_relu_mlp.
Goal True. idtac "@@THEOREM relu_not_differentiable_at_0". Abort.
Print Assumptions Main.relu_not_differentiable_at_0.
Goal True. idtac "@@THEOREM relu_clarke_at_0". Abort.
Print Assumptions Main.relu_clarke_at_0.
Goal True. idtac "@@THEOREM five_not_in_clarke". Abort.
Print Assumptions Main.five_not_in_clarke.
Goal True. idtac "@@THEOREM computable_eval_eq". Abort.
Print Assumptions Main.computable_eval_eq.
Goal True. idtac "@@THEOREM computable_preact_eq". Abort.
Print Assumptions Main.computable_preact_eq.
Goal True. idtac "@@THEOREM computable_kinks_eq". Abort.
Print Assumptions Main.computable_kinks_eq.
Goal True. idtac "@@THEOREM computable_ybar_eq". Abort.
Print Assumptions Main.computable_ybar_eq.
Goal True. idtac "@@THEOREM computable_zbar_eq". Abort.
Print Assumptions Main.computable_zbar_eq.
Goal True. idtac "@@THEOREM computable_ad_eq". Abort.
Print Assumptions Main.computable_ad_eq.
Goal True. idtac "@@THEOREM computable_NS_iff". Abort.
Print Assumptions Main.computable_NS_iff.
Goal True. idtac "@@THEOREM T3_ndf_count_eq_ns_count". Abort.
Print Assumptions Main.T3_ndf_count_eq_ns_count.
Goal True. idtac "@@THEOREM T5a_differentiable_at_a0_iff". Abort.
Print Assumptions Main.T5a_differentiable_at_a0_iff.
Goal True. idtac "@@THEOREM certified_relu_1_1". Abort.
Print Assumptions Main.certified_relu_1_1.
Goal True. idtac "@@THEOREM certified_relu_1_2_1". Abort.
Print Assumptions Main.certified_relu_1_2_1.
Goal True. idtac "@@THEOREM certified_leaky_1_2_1". Abort.
Print Assumptions Main.certified_leaky_1_2_1.
Goal True. idtac "@@THEOREM certified_hardtanh_2_2_1". Abort.
Print Assumptions Main.certified_hardtanh_2_2_1.
Goal True. idtac "@@THEOREM certified_tight_relu_2_v". Abort.
Print Assumptions Main.certified_tight_relu_2_v.
Goal True. idtac "@@THEOREM certified_tight_relu_1". Abort.
Print Assumptions Main.certified_tight_relu_1.
Goal True. idtac "@@THEOREM certified_tight_relu_2". Abort.
Print Assumptions Main.certified_tight_relu_2.
Goal True. idtac "@@THEOREM certified_tight_relu_3". Abort.
Print Assumptions Main.certified_tight_relu_3.
Goal True. idtac "@@THEOREM certified_tight_hardtanh_2". Abort.
Print Assumptions Main.certified_tight_hardtanh_2.
Goal True. idtac "@@THEOREM certified_tight_hardtanh_3". Abort.
Print Assumptions Main.certified_tight_hardtanh_3.
Goal True. idtac "@@THEOREM certified_t5a". Abort.
Print Assumptions Main.certified_t5a.
Goal True. idtac "@@THEOREM C1_instance_polynomial". Abort.
Print Assumptions Main.C1_instance_polynomial.
Goal True. idtac "@@THEOREM T1_ad_correct_C1". Abort.
Print Assumptions Main.T1_ad_correct_C1.
Goal True. idtac "@@THEOREM T3_ndf_iff_NS_C1". Abort.
Print Assumptions Main.T3_ndf_iff_NS_C1.
Goal True. idtac "@@THEOREM T5b_not_NS_differentiable_C1". Abort.
Print Assumptions Main.T5b_not_NS_differentiable_C1.
Goal True. idtac "@@THEOREM T5c_NS_not_differentiable_C1". Abort.
Print Assumptions Main.T5c_NS_not_differentiable_C1.
Goal True. idtac "@@THEOREM T4_ad_in_clarke_C1". Abort.
Print Assumptions Main.T4_ad_in_clarke_C1.
Goal True. idtac "@@THEOREM T6_batch_count_bound". Abort.
Print Assumptions Main.T6_batch_count_bound.
Goal True. idtac "@@THEOREM T6_needs_theta_uniform". Abort.
Print Assumptions Main.T6_needs_theta_uniform.
Goal True. idtac "@@THEOREM T6_fails_multi_kink". Abort.
Print Assumptions Main.T6_fails_multi_kink.
Goal True. idtac "@@THEOREM differentiable_iff_tangent_linear". Abort.
Print Assumptions Main.differentiable_iff_tangent_linear.
Goal True. idtac "@@THEOREM T6_batch_ad_correct". Abort.
Print Assumptions Main.T6_batch_ad_correct.
Goal True. idtac "@@THEOREM T6_batch_ad_correct_one_kink". Abort.
Print Assumptions Main.T6_batch_ad_correct_one_kink.
Goal True. idtac "@@THEOREM T6_iff_theta_uniform". Abort.
Print Assumptions Main.T6_iff_theta_uniform.
Goal True. idtac "@@THEOREM C1_instance_cross_entropy". Abort.
Print Assumptions Main.C1_instance_cross_entropy.
Goal True. idtac "@@THEOREM T6_differentiable_iff_groups". Abort.
Print Assumptions Main.T6_differentiable_iff_groups.
Goal True. idtac "@@THEOREM C1_differentiable_iff_linearised". Abort.
Print Assumptions Main.C1_differentiable_iff_linearised.
Goal True. idtac "@@THEOREM T6_batch_tangent_is_batched". Abort.
Print Assumptions Main.T6_batch_tangent_is_batched.
Goal True. idtac "@@THEOREM C1_ad_equations". Abort.
Print Assumptions Main.C1_ad_equations.
Goal True. idtac "@@THEOREM T7_tied_ad_correct". Abort.
Print Assumptions Main.T7_tied_ad_correct.
Goal True. idtac "@@THEOREM T7_tied_count_bound". Abort.
Print Assumptions Main.T7_tied_count_bound.
Goal True. idtac "@@THEOREM T7_tangent_is_tied". Abort.
Print Assumptions Main.T7_tangent_is_tied.
Goal True. idtac "@@THEOREM T7_tied_differentiable_iff_groups". Abort.
Print Assumptions Main.T7_tied_differentiable_iff_groups.
Goal True. idtac "@@THEOREM T7_tied_tangent". Abort.
Print Assumptions Main.T7_tied_tangent.
Goal True. idtac "@@THEOREM T6_batch_is_tied". Abort.
Print Assumptions Main.T6_batch_is_tied.
Goal True. idtac "@@THEOREM T7_batch_tied". Abort.
Print Assumptions Main.T7_batch_tied.
Goal True. idtac "@@THEOREM T6_batch_ad_correct_via_T7". Abort.
Print Assumptions Main.T6_batch_ad_correct_via_T7.
Goal True. idtac "@@THEOREM T6_batch_count_bound_via_T7". Abort.
Print Assumptions Main.T6_batch_count_bound_via_T7.
Goal True. idtac "@@THEOREM T7_recurrent_fails". Abort.
Print Assumptions Main.T7_recurrent_fails.
Goal True. idtac "@@THEOREM T7_conv_is_tied". Abort.
Print Assumptions Main.T7_conv_is_tied.
Goal True. idtac "@@THEOREM T7_conv_batch_is_tied". Abort.
Print Assumptions Main.T7_conv_batch_is_tied.
Goal True. idtac "@@THEOREM T7_conv2d_is_tied". Abort.
Print Assumptions Main.T7_conv2d_is_tied.
Goal True. idtac "@@THEOREM T7_conv2d_batch_is_tied". Abort.
Print Assumptions Main.T7_conv2d_batch_is_tied.
Goal True. idtac "@@THEOREM T7_conv2d_example". Abort.
Print Assumptions Main.T7_conv2d_example.
Goal True. idtac "@@THEOREM T7_needs_theta_uniform". Abort.
Print Assumptions Main.T7_needs_theta_uniform.
Goal True. idtac "@@THEOREM T7_tied_ad_in_clarke". Abort.
Print Assumptions Main.T7_tied_ad_in_clarke.
Goal True. idtac "@@THEOREM T7_tied_ad_in_clarke_net". Abort.
Print Assumptions Main.T7_tied_ad_in_clarke_net.
Goal True. idtac "@@THEOREM T6_batch_ad_in_clarke". Abort.
Print Assumptions Main.T6_batch_ad_in_clarke.
Goal True. idtac "@@THEOREM T7_single_class_differentiable_iff". Abort.
Print Assumptions Main.T7_single_class_differentiable_iff.
Goal True. idtac "@@THEOREM computable_tied_differentiable_iff". Abort.
Print Assumptions Main.computable_tied_differentiable_iff.
Goal True. idtac "@@THEOREM computable_tied_test_answers". Abort.
Print Assumptions Main.computable_tied_test_answers.
Goal True. idtac "@@THEOREM computable_tied_examples". Abort.
Print Assumptions Main.computable_tied_examples.
Goal True. idtac "@@THEOREM T7_independent_differentiable_iff". Abort.
Print Assumptions Main.T7_independent_differentiable_iff.
Goal True. idtac "@@THEOREM computable_tied_indep_differentiable_iff". Abort.
Print Assumptions Main.computable_tied_indep_differentiable_iff.
Goal True. idtac "@@THEOREM computable_tied_two_class_examples". Abort.
Print Assumptions Main.computable_tied_two_class_examples.
Goal True. idtac "@@THEOREM T6_skip_counterexample". Abort.
Print Assumptions Main.T6_skip_counterexample.
Goal True. idtac "@@THEOREM T6_frozen_counterexample". Abort.
Print Assumptions Main.T6_frozen_counterexample.
Goal True. idtac "@@THEOREM mlp_batch_bias". Abort.
Print Assumptions Main.mlp_batch_bias.
Goal True. idtac "@@THEOREM T6_dense_every_choice". Abort.
Print Assumptions Main.T6_dense_every_choice.
Goal True. idtac "@@THEOREM T6_dense_every_choice_fails". Abort.
Print Assumptions Main.T6_dense_every_choice_fails.
Goal True. idtac "@@THEOREM mlp_kinked_dense". Abort.
Print Assumptions Main.mlp_kinked_dense.
Goal True. idtac "@@THEOREM T6_mlp_every_choice". Abort.
Print Assumptions Main.T6_mlp_every_choice.
Goal True. idtac "@@THEOREM T6_dense_nonvacuous". Abort.
Print Assumptions Main.T6_dense_nonvacuous.
Goal True. idtac "@@THEOREM C1_instance_mean_cross_entropy". Abort.
Print Assumptions Main.C1_instance_mean_cross_entropy.
Goal True. idtac "@@THEOREM C1_instance_mean_mse". Abort.
Print Assumptions Main.C1_instance_mean_mse.
Goal True. idtac "@@THEOREM smooth_tau_differentiable_iff_linearised". Abort.
Print Assumptions Main.smooth_tau_differentiable_iff_linearised.
Goal True. idtac "@@THEOREM T5b_smooth_tau". Abort.
Print Assumptions Main.T5b_smooth_tau.
Goal True. idtac "@@THEOREM T5c_smooth_tau". Abort.
Print Assumptions Main.T5c_smooth_tau.
Goal True. idtac "@@THEOREM T3_ndf_iff_NS_smooth_tau". Abort.
Print Assumptions Main.T3_ndf_iff_NS_smooth_tau.
Goal True. idtac "@@THEOREM T1_ad_correct_smooth_tau". Abort.
Print Assumptions Main.T1_ad_correct_smooth_tau.
Goal True. idtac "@@THEOREM T4_ad_in_clarke_smooth_tau". Abort.
Print Assumptions Main.T4_ad_in_clarke_smooth_tau.
Goal True. idtac "@@THEOREM smooth_tau_ad_equations". Abort.
Print Assumptions Main.smooth_tau_ad_equations.
Goal True. idtac "@@THEOREM T6_batchnorm_train_fails". Abort.
Print Assumptions Main.T6_batchnorm_train_fails.
Goal True. idtac "@@THEOREM C1_tau_instance_polynomial". Abort.
Print Assumptions Main.C1_tau_instance_polynomial.
Goal True. idtac "@@THEOREM smooth_tau_instance_layernorm2". Abort.
Print Assumptions Main.smooth_tau_instance_layernorm2.
Goal True. idtac "@@THEOREM smooth_tau_instance_layernorm". Abort.
Print Assumptions Main.smooth_tau_instance_layernorm.
Goal True. idtac "@@THEOREM smooth_tau_instance_softmax". Abort.
Print Assumptions Main.smooth_tau_instance_softmax.
Goal True. idtac "@@THEOREM T7_tied_ad_correct_smooth_tau". Abort.
Print Assumptions Main.T7_tied_ad_correct_smooth_tau.
Goal True. idtac "@@THEOREM T7_tied_count_bound_smooth_tau". Abort.
Print Assumptions Main.T7_tied_count_bound_smooth_tau.
Goal True. idtac "@@THEOREM T6_batch_ad_correct_smooth_tau". Abort.
Print Assumptions Main.T6_batch_ad_correct_smooth_tau.
Goal True. idtac "@@THEOREM T6_batch_ad_correct_smooth_tau_built". Abort.
Print Assumptions Main.T6_batch_ad_correct_smooth_tau_built.
Goal True. idtac "@@THEOREM smooth_tau_layernorm_nonvacuity". Abort.
Print Assumptions Main.smooth_tau_layernorm_nonvacuity.
Goal True. idtac "@@THEOREM T6_batch_count_bound_distinct_inputs". Abort.
Print Assumptions Main.T6_batch_count_bound_distinct_inputs.
Goal True. idtac "@@THEOREM T6_batch_bound_needs_distinct_inputs". Abort.
Print Assumptions Main.T6_batch_bound_needs_distinct_inputs.
Goal True. idtac "@@THEOREM T6_batch_family_loss". Abort.
Print Assumptions Main.T6_batch_family_loss.
Goal True. idtac "@@THEOREM T6_batch_family_count". Abort.
Print Assumptions Main.T6_batch_family_count.
Goal True. idtac "@@THEOREM T6_batch_bound_tight". Abort.
Print Assumptions Main.T6_batch_bound_tight.
Goal True. idtac "@@THEOREM T6_batch_family_equal_inputs". Abort.
Print Assumptions Main.T6_batch_family_equal_inputs.
Goal True. idtac "@@THEOREM T5d_chain_network". Abort.
Print Assumptions Main.T5d_chain_network.
Goal True. idtac "@@THEOREM T5d_chain_ndf_iff". Abort.
Print Assumptions Main.T5d_chain_ndf_iff.
Goal True. idtac "@@THEOREM T5d_chain_count". Abort.
Print Assumptions Main.T5d_chain_count.
Goal True. idtac "@@THEOREM T5d_uniform_bound_fails". Abort.
Print Assumptions Main.T5d_uniform_bound_fails.
Goal True. idtac "@@THEOREM computable_batch_differentiable_iff". Abort.
Print Assumptions Main.computable_batch_differentiable_iff.
Goal True. idtac "@@THEOREM computable_batch_inc_iff". Abort.
Print Assumptions Main.computable_batch_inc_iff.
Goal True. idtac "@@THEOREM computable_batch_counts". Abort.
Print Assumptions Main.computable_batch_counts.
Goal True. idtac "@@THEOREM certified_t6_hardtanh_batch". Abort.
Print Assumptions Main.certified_t6_hardtanh_batch.
Goal True. idtac "@@THEOREM certified_conv1d_hardtanh". Abort.
Print Assumptions Main.certified_conv1d_hardtanh.
Goal True. idtac "@@THEOREM batch_equal_inputs_collapse". Abort.
Print Assumptions Main.batch_equal_inputs_collapse.
Goal True. idtac "@@THEOREM T6_batch_equal_inputs_ndf_iff_NS". Abort.
Print Assumptions Main.T6_batch_equal_inputs_ndf_iff_NS.
Goal True. idtac "@@THEOREM computable_batch_equal_inputs_iff". Abort.
Print Assumptions Main.computable_batch_equal_inputs_iff.
Goal True. idtac "@@THEOREM T6_batch_inc_count_one_kink". Abort.
Print Assumptions Main.T6_batch_inc_count_one_kink.
Goal True. idtac "@@THEOREM certified_theory_8_1_batch". Abort.
Print Assumptions Main.certified_theory_8_1_batch.
