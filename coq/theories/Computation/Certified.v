(* Certified numbers (issue 10, item 9; THEORY.md T2-T5 on concrete networks):
   for networks of examples/*.json over the small formats fp(2,2), e2m1 and
   list(-1,0,1) (Examples.v), the exact number of parameter vectors in M^W at
   which f is not differentiable ([ndf_count]), of those at which f is
   differentiable but AD with PyTorch's choices is wrong ([inc_count]) and,
   for the T5(a) network, of the NS points ([ns_count]).  Proofs by
   computation: QDecide.v's [qtally] decides every point by T5(b) (not NS:
   differentiable, gradient AD) or T5(c) (NS and the topmost kink neuron with
   a non-zero adjoint perturbable: not differentiable), plus, for T5(a), the
   direct analysis of T5aCount.v at a = 0; [vm_compute] runs it.  The same
   numbers come from the enumerator (`adcorrect count --oracle`) and the SMT
   AllSAT counts; `make compare` puts the three side by side. *)
From Coq Require Import Reals QArith List.
From ADCorrect Require Import Network QAct QNet QAD QDecide QSpec Examples T5aCount.
Import ListNotations.

(** * From a computation to a count *)

Lemma spec_tally_correct (s : qspec) (fb : list Q -> status) (M : list Q) (a b : nat) :
  qwf (spec_qnet s) = true -> fallback_sound (spec_qnet s) (torch_dq (spec_qnet s)) fb ->
  qtally (spec_qnet s) (torch_dq (spec_qnet s)) fb M = Some (a, b) ->
  ndf_count (spec_network s) (map Q2R M) = a /\
  inc_count (spec_network s) (spec_torch s) (map Q2R M) = b.
Proof. intros Hwf Hfb H; exact (qtally_correct _ _ _ Hwf Hfb M a b H). Qed.

Lemma spec_ns_correct (s : qspec) (M : list Q) (c : nat) :
  qns_tally (spec_qnet s) (torch_dq (spec_qnet s)) M = c ->
  ns_count (spec_network s) (spec_torch s) (map Q2R M) = c.
Proof. intros H; rewrite <- H; apply qns_tally_correct. Qed.

Ltac certify_tally fb :=
  apply (spec_tally_correct _ fb);
    [vm_compute; reflexivity | first [apply no_fallback_sound | apply t5a_fallback_sound] |
     vm_compute; reflexivity].

Ltac certify_ns := apply spec_ns_correct; vm_compute; reflexivity.

(** * Bias networks and the T2 tightness family: the classifier decides every point *)

Lemma tally_relu_1_1_fp_2_2 :
  ndf_count net_relu_1_1 M_fp_2_2 = 11%nat /\
  inc_count net_relu_1_1 (spec_torch spec_relu_1_1) M_fp_2_2 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_relu_1_1_e2m1 :
  ndf_count net_relu_1_1 M_e2m1 = 15%nat /\
  inc_count net_relu_1_1 (spec_torch spec_relu_1_1) M_e2m1 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_relu_1_1_list_m1_0_1 :
  ndf_count net_relu_1_1 M_list_m1_0_1 = 3%nat /\
  inc_count net_relu_1_1 (spec_torch spec_relu_1_1) M_list_m1_0_1 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_relu_1_2_1_list_m1_0_1 :
  ndf_count net_relu_1_2_1 M_list_m1_0_1 = 864%nat /\
  inc_count net_relu_1_2_1 (spec_torch spec_relu_1_2_1) M_list_m1_0_1 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_leaky_1_2_1_list_m1_0_1 :
  ndf_count net_leaky_1_2_1 M_list_m1_0_1 = 864%nat /\
  inc_count net_leaky_1_2_1 (spec_torch spec_leaky_1_2_1) M_list_m1_0_1 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_hardtanh_2_2_1_list_m1_0_1 :
  ndf_count net_hardtanh_2_2_1 M_list_m1_0_1 = 3696%nat /\
  inc_count net_hardtanh_2_2_1 (spec_torch spec_hardtanh_2_2_1) M_list_m1_0_1 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_tight_relu_2_v_list_m1_0_1 :
  ndf_count net_tight_relu_2_v M_list_m1_0_1 = 96%nat /\
  inc_count net_tight_relu_2_v (spec_torch spec_tight_relu_2_v) M_list_m1_0_1 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_tight_relu_1_fp_2_2 :
  ndf_count net_tight_relu_1 M_fp_2_2 = 1%nat /\
  inc_count net_tight_relu_1 (spec_torch spec_tight_relu_1) M_fp_2_2 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_tight_relu_1_e2m1 :
  ndf_count net_tight_relu_1 M_e2m1 = 1%nat /\
  inc_count net_tight_relu_1 (spec_torch spec_tight_relu_1) M_e2m1 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_tight_relu_2_fp_2_2 :
  ndf_count net_tight_relu_2 M_fp_2_2 = 21%nat /\
  inc_count net_tight_relu_2 (spec_torch spec_tight_relu_2) M_fp_2_2 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_tight_relu_2_e2m1 :
  ndf_count net_tight_relu_2 M_e2m1 = 29%nat /\
  inc_count net_tight_relu_2 (spec_torch spec_tight_relu_2) M_e2m1 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_tight_relu_3_fp_2_2 :
  ndf_count net_tight_relu_3 M_fp_2_2 = 331%nat /\
  inc_count net_tight_relu_3 (spec_torch spec_tight_relu_3) M_fp_2_2 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_tight_relu_3_e2m1 :
  ndf_count net_tight_relu_3 M_e2m1 = 631%nat /\
  inc_count net_tight_relu_3 (spec_torch spec_tight_relu_3) M_e2m1 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_tight_hardtanh_2_fp_2_2 :
  ndf_count net_tight_hardtanh_2 M_fp_2_2 = 40%nat /\
  inc_count net_tight_hardtanh_2 (spec_torch spec_tight_hardtanh_2) M_fp_2_2 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_tight_hardtanh_2_e2m1 :
  ndf_count net_tight_hardtanh_2 M_e2m1 = 56%nat /\
  inc_count net_tight_hardtanh_2 (spec_torch spec_tight_hardtanh_2) M_e2m1 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_tight_hardtanh_3_fp_2_2 :
  ndf_count net_tight_hardtanh_3 M_fp_2_2 = 602%nat /\
  inc_count net_tight_hardtanh_3 (spec_torch spec_tight_hardtanh_3) M_fp_2_2 = 0%nat.
Proof. certify_tally no_fallback. Qed.

Lemma tally_tight_hardtanh_3_e2m1 :
  ndf_count net_tight_hardtanh_3 M_e2m1 = 1178%nat /\
  inc_count net_tight_hardtanh_3 (spec_torch spec_tight_hardtanh_3) M_e2m1 = 0%nat.
Proof. certify_tally no_fallback. Qed.

(** * T5(a): the classifier and the fallback at a = 0 *)

Lemma tally_t5a_list_m1_0_1 :
  ndf_count net_t5a M_list_m1_0_1 = 14%nat /\
  inc_count net_t5a (spec_torch spec_t5a) M_list_m1_0_1 = 2%nat.
Proof. certify_tally t5a_fallback. Qed.

Lemma ns_t5a_list_m1_0_1 : ns_count net_t5a (spec_torch spec_t5a) M_list_m1_0_1 = 19%nat.
Proof. certify_ns. Qed.

Lemma tally_t5a_fp_2_2 :
  ndf_count net_t5a M_fp_2_2 = 310%nat /\
  inc_count net_t5a (spec_torch spec_t5a) M_fp_2_2 = 10%nat.
Proof. certify_tally t5a_fallback. Qed.

Lemma ns_t5a_fp_2_2 : ns_count net_t5a (spec_torch spec_t5a) M_fp_2_2 = 331%nat.
Proof. certify_ns. Qed.

Lemma tally_t5a_e2m1 :
  ndf_count net_t5a M_e2m1 = 602%nat /\
  inc_count net_t5a (spec_torch spec_t5a) M_e2m1 = 14%nat.
Proof. certify_tally t5a_fallback. Qed.

Lemma ns_t5a_e2m1 : ns_count net_t5a (spec_torch spec_t5a) M_e2m1 = 631%nat.
Proof. certify_ns. Qed.
