(* Batches of tied-bias networks are tied-bias networks (THEORY.md section
   8.1, "Tied networks"; issue 18, item 1): the copy (k, i) of neuron k for
   example i gets the class of k.  A batched bias network (Batch.v) is the
   case "every neuron is its own class", so T6's theorems are corollaries of
   T7's: T6_batch_ad_correct_via_T7 and T6_batch_count_bound_via_T7 re-derive
   T6Correct.T6_batch_ad_correct and T6.T6_batch_count_bound from
   T7Correct.v, and the counterexample for choices that are not
   theta-uniform carries over (T7_needs_theta_uniform). *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Activation Network AD Counting T2 C1Output Batch T6
  T6Correct Tied T7Correct.
Import ListNotations.
Open Scope R_scope.

(** * Batches of tied-bias networks *)

Section BatchTied.
Variables (net : network) (B : nat) (xs : nat -> nat -> R) (cls bias : nat -> nat).
Let N := n_size net.
Let bnet := batch_neurons net B xs.
Hypothesis Hwf : wf_neurons net.
Hypothesis Htied : forall i, (i < B)%nat -> tied_bias (base_at net (xs i)) cls bias.

Lemma batch_classes_ordered : classes_ordered bnet (fun c => cls (c mod N)).
Proof.
  intros c j Hc Hj; unfold bnet in Hc; rewrite batch_size in Hc.
  destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk ->]]]].
  unfold bnet in Hj; rewrite batch_tau in Hj by assumption.
  apply occurs_neuron_inst in Hj as [j' [-> Hj']].
  pose proof (proj1 (Hwf k Hk) j' Hj') as Hjk.
  rewrite !copy_mod by (fold N; lia).
  exact (proj1 (Htied i Hi) k j' Hk Hj').
Qed.

Theorem batch_tied : tied_bias bnet (fun c => cls (c mod N)) bias.
Proof.
  split; [exact batch_classes_ordered|].
  intros c' Hc' Hk'; unfold bnet in Hc'; rewrite batch_size in Hc'.
  destruct (copy_decompose N B c' Hc') as [i' [k' [Hi' [Hk'' ->]]]].
  unfold bnet in Hk'; rewrite batch_sigma in Hk' by assumption.
  rewrite copy_mod by exact Hk''.
  destruct (proj2 (Htied i' Hi') k' Hk'' Hk') as [Hp _]; split; [exact Hp|].
  intros c Hc; unfold bnet in Hc; rewrite batch_size in Hc.
  destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk ->]]]].
  rewrite copy_mod by exact Hk.
  destruct (proj2 (proj2 (Htied i Hi) k' Hk'' Hk') k Hk) as [Hin Hout].
  unfold bnet; rewrite batch_tau by assumption; split.
  - intros He; destruct (Hin He) as [r [Hr Heq]].
    exists (inst (i * N) (xs i) r); split; [rewrite occurs_param_inst; exact Hr|].
    intros w z; rewrite !eval_inst; apply Heq.
  - intros Hne; rewrite occurs_param_inst; apply Hout, Hne.
Qed.

End BatchTied.

(** * Batched bias networks are tied-bias networks *)

Lemma batch_bias_base_tied (net : network) (x : nat -> R) (bias : nat -> nat) :
  wf_neurons net ->
  (forall k, (k < n_size net)%nat -> exists r, exclusive_param_with (base_at net x) (bias k) k (EConst 1) r) ->
  tied_bias (base_at net x) (fun k => k) bias.
Proof.
  intros Hwf Hb; split.
  - intros c j Hc Hj; exact (proj1 (Hwf c Hc) j Hj).
  - intros c' Hc' _; destruct (Hb c' Hc') as [r He].
    destruct He as (Hp & _ & Hoth & _ & _ & Hr & Heq); split; [exact Hp|].
    intros c Hc; split.
    + intros ->; exists r; split; [exact Hr|]; intros w z; rewrite Heq; simpl; ring.
    + intros Hne; apply Hoth; [exact Hc | exact Hne].
Qed.

Theorem T6_batch_is_tied (net : network) (B : nat) (xs : nat -> nat -> R) :
  wf_neurons net -> batch_bias net B xs ->
  exists bias, tied_bias (batch_neurons net B xs) (fun c => c mod n_size net) bias.
Proof.
  intros Hwf Hb.
  destruct (finite_choice (fun k p => forall i, (i < B)%nat ->
              exists r, exclusive_param_with (base_at net (xs i)) p k (EConst 1) r) (n_size net) 0%nat Hb)
    as [bias Hbias].
  exists bias; apply (batch_tied net B xs (fun k => k) bias Hwf).
  intros i Hi; apply batch_bias_base_tied; [exact Hwf|].
  intros k Hk; exact (Hbias k Hk i Hi).
Qed.

(** * T6 as a corollary of T7 *)

Section T6ViaT7.
Variables (net : network) (B : nat) (xs : nat -> nat -> R).
Variable loss : c1_output (n_params net) (n_size (batch_neurons net B xs)).
Let N := n_size net.
Let bnet := batch_neurons net B xs.
Let bn := batch_net net B xs loss.
Hypothesis Hwf : wf_neurons net.
Hypothesis Hb : batch_bias net B xs.

Corollary T6_batch_ad_correct_via_T7 (Dk : nat -> R -> R) (w g : vec) :
  (forall k, (k < N)%nat -> theta_uniform (sigma net k) (Dk k)) ->
  differentiable_at (n_params net) (c1_eval bn) w g ->
  forall p, (p < n_params net)%nat -> ad_c1 bn (fun c => Dk (c mod N) (preact bnet w c)) w p = g p.
Proof.
  intros Hu; destruct (finite_choice (fun k th => forall c, is_kink (sigma net k) c ->
                          Dk k c = slope_left (sigma net k) c + th * (slope_right (sigma net k) c - slope_left (sigma net k) c))
                        N 0 Hu) as [theta Htheta].
  destruct (T6_batch_is_tied net B xs Hwf Hb) as [bias Htied].
  apply (T7_tied_ad_correct bn (fun c => c mod N) bias (batch_wf net B xs Hwf) Htied theta
           (fun c y => Dk (c mod N) y)).
  intros c y Hc Hk; cbn [bn batch_net cn_net] in Hc, Hk |- *.
  rewrite batch_size in Hc; destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk' ->]]]].
  rewrite batch_sigma in Hk |- * by assumption; rewrite copy_mod by exact Hk'.
  apply Htheta; [exact Hk' | exact Hk].
Qed.

Corollary T6_batch_count_bound_via_T7 (M : list R) :
  NoDup M ->
  (count (fun u => ~ differentiable (n_params net) (c1_eval bn) (word_vec u)) (words M (n_params net))
   <= B * kink_total net * length M ^ (n_params net - 1))%nat.
Proof.
  intros HM; destruct (T6_batch_is_tied net B xs Hwf Hb) as [bias Htied].
  assert (H := T7_tied_count_bound bn (fun c => c mod N) bias (batch_wf net B xs Hwf) Htied M HM).
  cbn [bn batch_net cn_net] in H; unfold kink_total in H; rewrite batch_kink_total in H; exact H.
Qed.

End T6ViaT7.


(** * Theta-uniformity is needed (T6's counterexample is a tied network) *)

(* one class of two neurons y = b + c1, y = b + c2 with a common bias b *)
Theorem T7_needs_theta_uniform (a : activation) (Da : R -> R) (c1 c2 : R) :
  is_kink a c1 -> is_kink a c2 -> theta_of a (Da c1) c1 <> theta_of a (Da c2) c2 ->
  exists zeta g bias,
    tied_bias (T6_net a c1 c2 zeta) (fun c => c mod 1) bias /\ wf (T6_net a c1 c2 zeta) /\
    differentiable_at 1 (net_eval (T6_net a c1 c2 zeta)) vzero g /\
    ad (T6_net a c1 c2 zeta) (fun c => Da (preact (T6_net a c1 c2 zeta) vzero c)) vzero 0 <> g 0%nat.
Proof.
  intros H1 H2 Hth.
  destruct (T6_needs_theta_uniform a Da c1 c2 H1 H2 Hth) as [zeta [g [Hb [Hwf [Hd Had]]]]].
  destruct (T6_batch_is_tied (T6_base a) 2 (T6_xs c1 c2) (T6_base_wf a) Hb) as [bias Ht].
  exists zeta, g, bias; split; [exact (tied_bias_with_out _ _ _ _ Ht)|].
  split; [exact Hwf | split; [exact Hd | exact Had]].
Qed.
