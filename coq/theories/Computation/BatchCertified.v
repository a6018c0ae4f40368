(* Certified counts for the batched and tied networks of BatchExamples.v
   (issue 18, item 5): ndf_count and inc_count (PyTorch's choice) over the
   formats of Examples.v, computed by QBatch.qbt_tally (vm_compute) and
   transferred by QBatch.qbt_tally_correct, whose test is the exact
   N&S condition of T6 for this class (the slope jumps of the copies cancel);
   for examples/theory-8.1.json (equal inputs) by BatchEqual.v and QDecide.v's
   classifier on the collapsed network (T3: NS there is the exact test). *)
From Coq Require Import Reals QArith List Arith Lia Lra.
From ADCorrect Require Import Activation Network C1Output Batch QAct QNet QAD QDecide QBatch BatchEqual BatchInc Examples BatchExamples.
Import ListNotations.

Lemma batch_tally (a : qact) (xs M : list Q) (n i : nat) :
  qbt_tally a (qtorch a) xs M = (n, i) ->
  ndf_count (qbt_network a 1 xs) (map Q2R M) = n /\
  inc_count (qbt_network a 1 xs) (qbt_choice (qtorch a)) (map Q2R M) = i.
Proof.
  intros H; destruct (qbt_tally_correct a (qtorch a) 1 xs M n i (le_n 1) H) as [H1 H2].
  rewrite Nat.sub_diag, Nat.pow_0_r, Nat.mul_1_r in H1, H2; split; assumption.
Qed.

Ltac certify_batch := apply batch_tally; vm_compute; reflexivity.

Lemma tally_t6_hardtanh_batch_fp_2_2 :
  ndf_count net_t6_hardtanh_batch M_fp_2_2 = 2%nat /\
  inc_count net_t6_hardtanh_batch torch_t6_hardtanh_batch M_fp_2_2 = 1%nat.
Proof. certify_batch. Qed.

Lemma tally_t6_hardtanh_batch_e2m1 :
  ndf_count net_t6_hardtanh_batch M_e2m1 = 2%nat /\
  inc_count net_t6_hardtanh_batch torch_t6_hardtanh_batch M_e2m1 = 1%nat.
Proof. certify_batch. Qed.

Lemma tally_t6_hardtanh_batch_list_m1_0_1 :
  ndf_count net_t6_hardtanh_batch M_list_m1_0_1 = 0%nat /\
  inc_count net_t6_hardtanh_batch torch_t6_hardtanh_batch M_list_m1_0_1 = 1%nat.
Proof. certify_batch. Qed.

Lemma tally_conv1d_hardtanh_fp_2_2 :
  ndf_count net_conv1d_hardtanh M_fp_2_2 = 4%nat /\
  inc_count net_conv1d_hardtanh torch_conv1d_hardtanh M_fp_2_2 = 1%nat.
Proof. certify_batch. Qed.

Lemma tally_conv1d_hardtanh_e2m1 :
  ndf_count net_conv1d_hardtanh M_e2m1 = 4%nat /\
  inc_count net_conv1d_hardtanh torch_conv1d_hardtanh M_e2m1 = 1%nat.
Proof. certify_batch. Qed.

(** * theory-8.1: equal inputs, the collapsed network *)

Lemma theory_8_1_collapsed :
  collapsed_net (to_network base_theory_8_1) (n_input (to_network base_theory_8_1)) (to_expr mse_theory_8_1) =
  to_network collapsed_theory_8_1.
Proof. reflexivity. Qed.

Lemma theory_8_1_tally (M : list Q) (a b : nat) :
  qtally collapsed_theory_8_1 (torch_dq collapsed_theory_8_1) no_fallback M = Some (a, b) ->
  ndf_count net_theory_8_1_batch (map Q2R M) = a.
Proof.
  intros H; unfold net_theory_8_1_batch.
  rewrite (batch_equal_inputs_ndf_count (to_network base_theory_8_1) 2 _ (to_expr mse_theory_8_1)).
  - rewrite theory_8_1_collapsed.
    refine (proj1 (qtally_correct _ _ _ _ (no_fallback_sound _ _) M a b H)).
    vm_compute; reflexivity.
  - apply wf_wf_neurons, qwf_correct; vm_compute; reflexivity.
  - intros i _; reflexivity.
  - intros j Hj; unfold n_size; simpl in Hj |- *; lia.
Qed.

Lemma ndf_theory_8_1_batch_list_m1_0_1 : ndf_count net_theory_8_1_batch M_list_m1_0_1 = 12%nat.
Proof. apply theory_8_1_tally with (b := 0%nat); vm_compute; reflexivity. Qed.

Lemma ndf_theory_8_1_batch_fp_2_2 : ndf_count net_theory_8_1_batch M_fp_2_2 = 1100%nat.
Proof. apply theory_8_1_tally with (b := 0%nat); vm_compute; reflexivity. Qed.

Lemma ndf_theory_8_1_batch_e2m1 : ndf_count net_theory_8_1_batch M_e2m1 = 2940%nat.
Proof. apply theory_8_1_tally with (b := 0%nat); vm_compute; reflexivity. Qed.

(** * theory-8.1: inc_M = 0 (T6 for relu) *)

Lemma theory_8_1_base_wf : wf_neurons (to_network base_theory_8_1).
Proof. apply wf_wf_neurons, qwf_correct; vm_compute; reflexivity. Qed.

Lemma theory_8_1_bias :
  batch_bias (to_network base_theory_8_1) 2 (fun _ => n_input (to_network base_theory_8_1)).
Proof.
  intros k Hk; unfold n_size in Hk; simpl in Hk.
  destruct k as [|[|k]]; [exists 1%nat | exists 3%nat | lia]; intros i Hi;
    [exists (EMul (EParam 0) (EInput 0)) | exists (EMul (EParam 2) (ENeuron 0))]; repeat split;
    try (intros j Hj Hne; unfold n_size in Hj; simpl in Hj;
         destruct j as [|[|j]]; simpl; intuition (try lia; try congruence); fail);
    try (intros w z; simpl; ring);
    simpl; intuition (try lia; try congruence).
Qed.

Lemma theory_8_1_one_kink : forall k, (k < n_size (to_network base_theory_8_1))%nat ->
  forall c c', is_kink (sigma (to_network base_theory_8_1) k) c ->
               is_kink (sigma (to_network base_theory_8_1) k) c' -> c = c'.
Proof.
  intros k Hk c c'; unfold n_size in Hk; simpl in Hk.
  destruct k as [|[|k]]; [| |lia]; cbn [sigma to_network n_neurons map nth snd fst base_theory_8_1 q_neurons act_of].
  - rewrite !relu_is_kink; intros -> ->; reflexivity.
  - rewrite <- !kinks_spec, act_id_kinks; intros [].
Qed.

Lemma theory_8_1_wf : wf net_theory_8_1_batch.
Proof.
  apply wf_with_out; [apply batch_wf, theory_8_1_base_wf | |].
  - intros j Hj; rewrite batch_size; unfold n_size; simpl in Hj |- *; lia.
  - intros p Hp; simpl in Hp; tauto.
Qed.

Lemma inc_theory_8_1_batch (M : list R) : inc_count net_theory_8_1_batch torch_theory_8_1_batch M = 0%nat.
Proof.
  exact (batch_inc_count_one_kink (to_network base_theory_8_1) 2 _ (to_expr mse_theory_8_1)
           theory_8_1_wf (qD (torch_dq base_theory_8_1)) M theory_8_1_base_wf theory_8_1_bias
           theory_8_1_one_kink).
Qed.
