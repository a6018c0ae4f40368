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
