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
